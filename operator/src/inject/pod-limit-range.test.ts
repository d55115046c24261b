import { parseResourceQuantity } from "@apicache/crds";
import type { V1Container, V1LimitRange, V1LimitRangeItem, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { bookingPod, policy } from "../../test/fixtures.js";
import { injectSidecar } from "./inject-sidecar.js";
import { decideResources } from "./sidecar-resources.js";

/**
 * A `Pod`-type LimitRange item bounds the pod as a whole: LimitRanger checks its max against the sum of
 * the pod's limits (and requests), init containers by their peak. The sidecar gets what the rest of
 * the pod leaves, or is not injected (ResourceLimits), so that the pod is never refused because of it.
 */
function limitRange(type: "Pod" | "Container", ...items: Omit<V1LimitRangeItem, "type">[]): V1LimitRange {
  return {
    metadata: { name: type.toLowerCase() },
    spec: { limits: items.map((item) => ({ type, ...item })) },
  };
}

function decide(options: { ranges?: V1LimitRange[]; pod: V1Pod; native?: boolean }) {
  return decideResources(policy(), {}, options.ranges ?? [], {
    pod: options.pod,
    native: options.native ?? false,
  });
}

function resources(options: Parameters<typeof decide>[0]) {
  const decision = decide(options);
  if (!decision.ok) throw new Error(decision.message);
  return decision.resources;
}

const app = (resources: V1Container["resources"], spec: Partial<NonNullable<V1Pod["spec"]>> = {}): V1Pod => ({
  spec: { containers: [{ name: "app", ...(resources ? { resources } : {}) }], ...spec },
});

describe("sidecar resources in a namespace with a Pod-type LimitRange", () => {
  const podMax = limitRange("Pod", { max: { cpu: "1", memory: "1Gi" } });

  it("fits the sidecar's limits into what the Pod max leaves after the other containers", () => {
    const pod = app({
      requests: { cpu: "400m", memory: "512Mi" },
      limits: { cpu: "800m", memory: "800Mi" },
    });
    const decision = decide({ ranges: [podMax], pod });
    expect(decision.ok && decision.resources).toEqual({
      requests: { cpu: "50m", memory: "64Mi" },
      limits: { cpu: "200m", memory: "224Mi" },
    });
    expect(decision.ok && decision.warnings).toEqual([
      expect.stringMatching(/cpu request\/limit 50m\/500m were fitted .*: 50m\/200m/),
      expect.stringMatching(/memory request\/limit 64Mi\/288Mi were fitted .*: 64Mi\/224Mi/),
      expect.stringMatching(/limit 224Mi is below what a full L1 of 64Mi needs .*may be OOM-killed/),
    ]);
  });

  it("fits the request too: the Pod max bounds the pod's summed requests", () => {
    const pod = app({ requests: { cpu: "980m" }, limits: { cpu: "980m" } });
    expect(resources({ ranges: [podMax], pod })).toMatchObject({
      requests: { cpu: "20m" },
      limits: { cpu: "20m" },
    });
  });

  it("counts a request the app leaves out as its limit, as the API server's defaulting does", () => {
    const pod = app({ limits: { cpu: "980m" } });
    expect(resources({ ranges: [podMax], pod }).requests?.cpu).toBe("20m");
  });

  it("skips injection, saying why, when the other containers leave no room", () => {
    const pod = app({ limits: { cpu: "1" } });
    const decision = decide({ ranges: [podMax], pod });
    expect(decision.ok).toBe(false);
    expect(!decision.ok && decision.message).toMatch(
      /no cpu request and limit .*Pod max 1000m.*the rest of the pod takes 1000m of limits/,
    );
  });

  it("counts an app container without a limit at the LimitRange's Container default", () => {
    const ranges = [
      podMax,
      limitRange("Container", { _default: { cpu: "700m" }, defaultRequest: { cpu: "100m" } }),
    ];
    expect(resources({ ranges, pod: app(undefined) })).toMatchObject({
      requests: { cpu: "50m" },
      limits: { cpu: "300m" },
    });
  });

  it("reads the Container default as a watch event carries it (`default`) too", () => {
    const item = { type: "Container", default: { cpu: "700m" } } as V1LimitRangeItem;
    const ranges = [podMax, { spec: { limits: [item] } }];
    expect(resources({ ranges, pod: app(undefined) }).limits?.cpu).toBe("300m");
  });

  it("counts an app container without a limit at the Container max when the item sets no default", () => {
    const ranges = [podMax, limitRange("Container", { max: { cpu: "600m" } })];
    expect(resources({ ranges, pod: app(undefined) }).limits?.cpu).toBe("400m");
  });

  it("counts an app container without a limit and no default at all as nothing, as LimitRanger does", () => {
    expect(resources({ ranges: [podMax], pod: app(undefined) }).limits?.cpu).toBe("500m");
  });

  it("takes the first LimitRange's Container default, as LimitRanger fills only what is missing", () => {
    const first = limitRange("Container", { _default: { cpu: "700m" } });
    const second = limitRange("Container", { _default: { cpu: "100m" } });
    expect(resources({ ranges: [podMax, first, second], pod: app(undefined) }).limits?.cpu).toBe("300m");
  });

  describe("with init containers", () => {
    const migrate = (cpu: string): V1Container => ({ name: "migrate", resources: { limits: { cpu } } });
    const mesh = (cpu: string): V1Container => ({
      name: "mesh-proxy",
      restartPolicy: "Always",
      resources: { limits: { cpu } },
    });

    it("leaves a plain sidecar next to the app only: an init container has finished before", () => {
      const pod = app({ limits: { cpu: "300m" } }, { initContainers: [migrate("900m")] });
      expect(resources({ ranges: [podMax], pod }).limits?.cpu).toBe("500m");
    });

    it("fits a native sidecar next to each init container too: it starts before them", () => {
      const pod = app({ limits: { cpu: "300m" } }, { initContainers: [migrate("900m")] });
      expect(resources({ ranges: [podMax], pod, native: true }).limits?.cpu).toBe("100m");
    });

    it("counts a native sidecar already in the pod (restartPolicy Always) into the sum", () => {
      const pod = app({ limits: { cpu: "500m" } }, { initContainers: [mesh("300m")] });
      expect(resources({ ranges: [podMax], pod }).limits?.cpu).toBe("200m");
    });

    it("adds the native sidecars started before an init container to it", () => {
      const pod = app({ limits: { cpu: "100m" } }, { initContainers: [mesh("300m"), migrate("500m")] });
      // The init phase peaks at 300m + 500m + the sidecar; the app phase at 100m + 300m + the sidecar.
      expect(resources({ ranges: [podMax], pod, native: true }).limits?.cpu).toBe("200m");
    });
  });

  it("is not held to a Pod min: the sidecar only adds to the pod's sums", () => {
    const ranges = [limitRange("Pod", { min: { cpu: "2", memory: "4Gi" } })];
    const pod = app({ limits: { cpu: "100m" } });
    expect(resources({ ranges, pod })).toEqual(resources({ pod }));
  });

  it("raises the request until the pod's limit / request fits a Pod maxLimitRequestRatio", () => {
    const ranges = [limitRange("Pod", { maxLimitRequestRatio: { cpu: "4" } })];
    const pod = app({ requests: { cpu: "100m" }, limits: { cpu: "400m" } });
    // (400m + 500m) / 4 = 225m of requests for the pod: 125m of them the sidecar's.
    expect(resources({ ranges, pod })).toMatchObject({
      requests: { cpu: "125m" },
      limits: { cpu: "500m" },
    });
  });

  it("applies the tightest Pod max of several LimitRanges", () => {
    const ranges = [podMax, limitRange("Pod", { max: { cpu: "900m" } })];
    expect(resources({ ranges, pod: app({ limits: { cpu: "800m" } }) }).limits?.cpu).toBe("100m");
  });

  describe("and pod-level resources (spec.resources)", () => {
    it("keeps the sidecar's requests within the pod's own requests", () => {
      const pod = app({ requests: { cpu: "900m" } }, { resources: { requests: { cpu: "1" } } });
      expect(resources({ pod }).requests?.cpu).toBe("50m");
      const full = app({ requests: { cpu: "980m" } }, { resources: { requests: { cpu: "1" } } });
      expect(resources({ pod: full }).requests?.cpu).toBe("20m");
    });

    it("keeps the sidecar's limit within the pod's own limit", () => {
      const pod = app({ limits: { cpu: "200m" } }, { resources: { limits: { cpu: "300m" } } });
      expect(resources({ pod }).limits?.cpu).toBe("300m");
    });

    it("is not bound by a Pod max: LimitRanger checks the pod-level limit in place of the sum", () => {
      const pod = app({ limits: { cpu: "800m" } }, { resources: { limits: { cpu: "1" } } });
      expect(resources({ ranges: [podMax], pod }).limits?.cpu).toBe("500m");
    });
  });

  it("never makes a pod LimitRanger admits one it refuses (every combination below)", () => {
    const cases = podCases();
    let injected = 0;
    for (const { pod, ranges, native } of cases) {
      const decision = decide({ ranges, pod, native });
      if (!decision.ok) continue;
      injected += 1;
      const sidecar: V1Container = { name: "apicache-sidecar", resources: decision.resources };
      const spec = pod.spec as NonNullable<V1Pod["spec"]>;
      const withSidecar: V1Pod = {
        spec: native
          ? {
              ...spec,
              initContainers: [{ ...sidecar, restartPolicy: "Always" }, ...(spec.initContainers ?? [])],
            }
          : { ...spec, containers: [...spec.containers, sidecar] },
      };
      if (limitRangerRefusals(pod, ranges).length === 0) {
        expect({ pod, ranges, native, refusals: limitRangerRefusals(withSidecar, ranges) }).toMatchObject({
          refusals: [],
        });
      }
    }
    expect(injected).toBeGreaterThan(cases.length / 2);
  });

  it("leaves the pod as it is, reason ResourceLimits, when the Pod max leaves the sidecar nothing", () => {
    const pod = bookingPod();
    (pod.spec?.containers[0] as V1Container).resources = { limits: { cpu: "1", memory: "512Mi" } };
    const options = { image: "sidecar", version: "0", nativeSidecar: true, configHash: "h" };
    const result = injectSidecar(pod, policy(), { ...options, limitRanges: [podMax] });
    expect(result).toMatchObject({ injected: false, reason: "ResourceLimits", pod });
    expect(!result.injected && result.message).toMatch(/^no cpu request and limit for the sidecar fit/);
  });

  it("never produces a pod whose summed limits exceed the Pod max (inject within it, or skip)", () => {
    const pod = bookingPod();
    const api = pod.spec?.containers[0] as V1Container;
    api.resources = {
      requests: { cpu: "400m", memory: "512Mi" },
      limits: { cpu: "800m", memory: "800Mi" },
    };
    const result = injectSidecar(pod, policy(), {
      image: "ghcr.io/apicache/sidecar:0.1.0",
      version: "0.1.0",
      nativeSidecar: false,
      configHash: "sha256:x",
      limitRanges: [podMax],
    });
    if (!result.injected) return; // skipping is an acceptable answer
    const all = [...(result.pod.spec?.containers ?? []), ...(result.pod.spec?.initContainers ?? [])].filter(
      (c) => c.name !== "migrate",
    );
    const sum = (name: "cpu" | "memory") =>
      all.reduce(
        (total, c) => total + (parseResourceQuantity(String(c.resources?.limits?.[name] ?? 0)) ?? 0),
        0,
      );
    expect(sum("cpu")).toBeLessThanOrEqual(1);
    expect(sum("memory")).toBeLessThanOrEqual(1024 * 1024 * 1024);
  });
});

/** Pods and LimitRanges to try together: app limits, init containers, both placements, several ranges. */
function podCases(): { pod: V1Pod; ranges: V1LimitRange[]; native: boolean }[] {
  const apps: (V1Container["resources"] | undefined)[] = [
    undefined,
    { limits: { cpu: "300m", memory: "256Mi" } },
    { requests: { cpu: "400m", memory: "512Mi" }, limits: { cpu: "800m", memory: "800Mi" } },
    { requests: { cpu: "100m", memory: "100Mi" }, limits: { cpu: "950m", memory: "900Mi" } },
  ];
  const inits: V1Container[][] = [
    [],
    [{ name: "migrate", resources: { limits: { cpu: "900m", memory: "900Mi" } } }],
    [{ name: "mesh", restartPolicy: "Always", resources: { limits: { cpu: "300m", memory: "128Mi" } } }],
    [
      { name: "mesh", restartPolicy: "Always", resources: { limits: { cpu: "200m", memory: "128Mi" } } },
      { name: "migrate", resources: { requests: { cpu: "100m" }, limits: { cpu: "600m", memory: "700Mi" } } },
    ],
  ];
  const rangeSets: V1LimitRange[][] = [
    [{ spec: { limits: [{ type: "Pod", max: { cpu: "1", memory: "1Gi" } }] } }],
    [
      {
        spec: {
          limits: [{ type: "Pod", max: { cpu: "1", memory: "1Gi" }, maxLimitRequestRatio: { cpu: "3" } }],
        },
      },
    ],
    [
      {
        spec: {
          limits: [
            { type: "Pod", max: { cpu: "1500m", memory: "2Gi" } },
            { type: "Container", _default: { cpu: "700m", memory: "1Gi" }, defaultRequest: { cpu: "200m" } },
          ],
        },
      },
    ],
  ];
  return apps.flatMap((resources) =>
    inits.flatMap((initContainers) =>
      rangeSets.flatMap((ranges) =>
        [false, true].map((native) => ({
          pod: {
            spec: { containers: [{ name: "app", ...(resources ? { resources } : {}) }], initContainers },
          },
          ranges,
          native,
        })),
      ),
    ),
  );
}

/**
 * What LimitRanger's Pod check refuses, written out as the Go code reads (plugin/pkg/admission/
 * limitranger): Container defaults filled in, requests defaulting to limits, summed per pod in
 * milli-units with the init containers' peak; then every Pod item's max and ratio.
 */
function limitRangerRefusals(pod: V1Pod, ranges: V1LimitRange[]): string[] {
  const items = ranges.flatMap((range) => range.spec?.limits ?? []);
  const total = (kind: "requests" | "limits", name: string) => podTotalOf(pod, items, kind, name);
  return items
    .filter((item) => item.type === "Pod")
    .flatMap((item) => [
      ...Object.entries(item.max ?? {}).flatMap(([name, max]) => {
        const [limit, request] = [total("limits", name), total("requests", name)];
        const over = (value: number | undefined) => value !== undefined && value > (milli(max) as number);
        return [
          ...(limit === undefined || over(limit) ? [`${name} limit over max`] : []),
          ...(over(request) ? [`${name} request over max`] : []),
        ];
      }),
      ...Object.entries(item.maxLimitRequestRatio ?? {}).flatMap(([name, ratio]) => {
        const [limit, request] = [total("limits", name) ?? 0, total("requests", name) ?? 0];
        const refused =
          request === 0 || limit === 0 || limit / request > (parseResourceQuantity(ratio) as number);
        return refused ? [`${name} ratio`] : [];
      }),
    ]);
}

function milli(value: string | number | undefined): number | undefined {
  return value === undefined ? undefined : Math.round((parseResourceQuantity(value) ?? 0) * 1000);
}

/** podRequests / podLimits: undefined when no container sets the resource. */
function podTotalOf(pod: V1Pod, items: V1LimitRangeItem[], kind: "requests" | "limits", name: string) {
  const defaults = items.find((item) => item.type === "Container");
  const of = (container: V1Container) => {
    const own = container.resources ?? {};
    const filled =
      kind === "limits"
        ? { ...defaults?._default, ...own.limits }
        : { ...defaults?.defaultRequest, ...own.limits, ...own.requests };
    return milli(filled[name]);
  };
  const set = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].some(
    (container) => of(container) !== undefined,
  );
  if (!set) return undefined;
  let sum = 0;
  for (const container of pod.spec?.containers ?? []) sum += of(container) ?? 0;
  let restartable = 0;
  let peak = 0;
  for (const container of pod.spec?.initContainers ?? []) {
    const own = of(container) ?? 0;
    if (container.restartPolicy === "Always") {
      sum += own;
      restartable += own;
    } else peak = Math.max(peak, own + restartable);
  }
  return Math.max(sum, peak);
}
