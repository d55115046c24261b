import type { V1LimitRange, V1LimitRangeItem, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { bookingPod, policy } from "../../test/fixtures.js";
import { injectSidecar } from "./inject-sidecar.js";
import { decideResources, type ResourceSettings } from "./sidecar-resources.js";

function limitRange(...items: Omit<V1LimitRangeItem, "type">[]): V1LimitRange {
  return {
    metadata: { name: "limits" },
    spec: { limits: items.map((item) => ({ type: "Container", ...item })) },
  };
}

const NO_POD: V1Pod = { spec: { containers: [] } };

function decide(options: { spec?: object; operator?: ResourceSettings; ranges?: V1LimitRange[] } = {}) {
  const p = policy(options.spec ? { spec: options.spec } : {});
  return decideResources(p, options.operator ?? {}, options.ranges ?? [], { pod: NO_POD, native: false });
}

function resources(options: Parameters<typeof decide>[0] = {}) {
  const decision = decide(options);
  if (!decision.ok) throw new Error(decision.message);
  return decision.resources;
}

const sidecarResources = (spec: object) => ({ sidecar: { resources: spec } });

describe("sidecar resources", () => {
  describe("with no settings anywhere", () => {
    it("requests 50m/64Mi and limits 500m CPU and twice the L1 budget plus 160Mi of memory", () => {
      expect(resources()).toEqual({
        requests: { cpu: "50m", memory: "64Mi" },
        limits: { cpu: "500m", memory: "288Mi" },
      });
    });

    it("sizes the memory limit from the policy's store.memory.maxBytes", () => {
      expect(resources({ spec: { store: { memory: { maxBytes: "1Gi" } } } }).limits?.memory).toBe("2208Mi");
    });
  });

  describe("with operator-wide settings", () => {
    it("uses them in place of the built-in defaults", () => {
      const operator = { requests: { cpu: "100m", memory: "96Mi" }, limits: { cpu: "1", memory: "512Mi" } };
      expect(resources({ operator })).toEqual({
        requests: { cpu: "100m", memory: "96Mi" },
        limits: { cpu: "1000m", memory: "512Mi" },
      });
    });
  });

  describe("with a policy's spec.sidecar.resources", () => {
    it("wins over the operator-wide settings field by field", () => {
      const operator = { requests: { cpu: "100m", memory: "96Mi" }, limits: { cpu: "1" } };
      const spec = sidecarResources({ limits: { cpu: "250m" }, requests: { memory: "80Mi" } });
      expect(resources({ operator, spec })).toEqual({
        requests: { cpu: "100m", memory: "80Mi" },
        limits: { cpu: "250m", memory: "288Mi" },
      });
    });

    it("keeps an explicit memory limit at or above the L1 budget as it is", () => {
      const spec = sidecarResources({ limits: { memory: "100Mi" } });
      expect(resources({ spec }).limits?.memory).toBe("100Mi");
    });

    it("refuses, with the reason, an L1 budget whose limit no quantity can state", () => {
      const decision = decide({ spec: { store: { memory: { maxBytes: "99999999999999999999G" } } } });
      expect(decision).toEqual({ ok: false, message: expect.stringMatching(/beyond any node's memory/) });
      expect(resources({ spec: { store: { memory: { maxBytes: "1024Gi" } } } }).limits?.memory).toBe(
        "2097312Mi",
      );
    });

    it("warns when an explicit memory limit is below what a full L1 needs (2 × budget + 160Mi)", () => {
      for (const memory of ["64Mi", "192Mi", "287Mi"]) {
        const decision = decide({ spec: sidecarResources({ limits: { memory } }) });
        expect(decision.ok && decision.warnings).toEqual([
          expect.stringMatching(
            new RegExp(`limit ${memory} is below what a full L1 of 64Mi needs .*= 288Mi`),
          ),
        ]);
      }
      const enough = decide({ spec: sidecarResources({ limits: { memory: "288Mi" } }) });
      expect(enough.ok && enough.warnings).toEqual([]);
    });

    it("raises a memory limit below the L1 budget to twice the budget plus headroom, with a warning", () => {
      const decision = decide({ spec: sidecarResources({ limits: { memory: "32Mi" } }) });
      expect(decision.ok && decision.resources.limits?.memory).toBe("288Mi");
      expect(decision.ok && decision.warnings.join()).toMatch(/below the policy's L1 budget/);
    });

    it("never leaves a limit below its request", () => {
      const spec = sidecarResources({ requests: { cpu: "2" }, limits: { cpu: "1" } });
      expect(resources({ spec })).toMatchObject({ requests: { cpu: "2000m" }, limits: { cpu: "2000m" } });
    });
  });

  describe("in a namespace with LimitRanges", () => {
    it("ignores PersistentVolumeClaim items", () => {
      const ranges = [{ spec: { limits: [{ type: "PersistentVolumeClaim", max: { storage: "1Gi" } }] } }];
      expect(resources({ ranges })).toEqual(resources());
    });

    it("lowers a limit above the container max", () => {
      const ranges = [limitRange({ max: { cpu: "200m", memory: "128Mi" } })];
      const decision = decide({ ranges, spec: { store: { memory: { maxBytes: "32Mi" } } } });
      expect(decision.ok && decision.resources).toEqual({
        requests: { cpu: "50m", memory: "64Mi" },
        limits: { cpu: "200m", memory: "128Mi" },
      });
      // cpu and memory fitted; 128Mi is above the 32Mi budget but below what a full L1 needs (224Mi).
      expect(decision.ok && decision.warnings).toHaveLength(3);
      expect(decision.ok && decision.warnings[2]).toMatch(/may be OOM-killed once L1 fills/);
    });

    it("lowers the request with the limit when both are above max", () => {
      const ranges = [limitRange({ max: { cpu: "20m" } })];
      expect(resources({ ranges })).toMatchObject({ requests: { cpu: "20m" }, limits: { cpu: "20m" } });
    });

    it("raises a request below the container min", () => {
      const ranges = [limitRange({ min: { cpu: "100m", memory: "128Mi" } })];
      expect(resources({ ranges })).toMatchObject({
        requests: { cpu: "100m", memory: "128Mi" },
        limits: { cpu: "500m", memory: "288Mi" },
      });
    });

    it("raises the request until limit / request fits maxLimitRequestRatio", () => {
      const ranges = [limitRange({ maxLimitRequestRatio: { cpu: "4", memory: "2" } })];
      expect(resources({ ranges })).toEqual({
        requests: { cpu: "125m", memory: "144Mi" },
        limits: { cpu: "500m", memory: "288Mi" },
      });
    });

    it("applies the tightest bound of several LimitRanges", () => {
      const ranges = [limitRange({ max: { cpu: "400m" } }), limitRange({ max: { cpu: "300m" } })];
      expect(resources({ ranges }).limits?.cpu).toBe("300m");
    });

    it("warns when a max memory leaves less than the L1 budget", () => {
      const ranges = [limitRange({ max: { memory: "48Mi" } })];
      const decision = decide({ ranges });
      expect(decision.ok && decision.resources.limits?.memory).toBe("48Mi");
      expect(decision.ok && decision.warnings.join()).toMatch(/may be OOM-killed/);
    });

    it("gives up when no request and limit can satisfy them", () => {
      const ranges = [limitRange({ min: { cpu: "1" } }), limitRange({ max: { cpu: "500m" } })];
      const decision = decide({ ranges });
      expect(decision.ok).toBe(false);
      expect(!decision.ok && decision.message).toMatch(/no cpu request and limit/);
    });
  });

  describe("injected", () => {
    const options = { image: "sidecar", version: "0", nativeSidecar: false, configHash: "h" };

    it("puts the decided resources on the sidecar container", () => {
      const result = injectSidecar(bookingPod(), policy(), {
        ...options,
        limitRanges: [limitRange({ max: { cpu: "300m" } })],
      });
      const sidecar = result.pod.spec?.containers.find((c) => c.name === "apicache-sidecar");
      expect(sidecar?.resources?.limits).toEqual({ cpu: "300m", memory: "288Mi" });
    });

    it("skips injection, with the reason, when the LimitRanges leave no room", () => {
      const ranges = [limitRange({ min: { memory: "1Gi" }, max: { memory: "512Mi" } })];
      const result = injectSidecar(bookingPod(), policy(), { ...options, limitRanges: ranges });
      expect(result).toMatchObject({ injected: false, reason: "ResourceLimits" });
    });
  });
});
