import { describe, expect, it } from "vitest";
import { bookingPod, policy, storedPolicy } from "../../test/fixtures.js";
import { parseStored } from "../policy/evaluate.js";
import { computeStatus, type StatusInput } from "./compute-status.js";
import { changedConditions, setConditions } from "./conditions.js";
import { countPods, NO_PODS } from "./pod-counts.js";

const T0 = new Date("2025-05-01T10:00:00Z");
const T1 = new Date("2025-05-01T10:05:00Z");
const valid = parseStored(storedPolicy({}));

function input(overrides: Partial<StatusInput> = {}): StatusInput {
  return {
    name: "booking-api",
    generation: 3,
    verdict: valid,
    configHash: "sha256:1",
    pods: NO_PODS,
    previous: undefined,
    now: T0,
    ...overrides,
  };
}

const condition = (status: ReturnType<typeof computeStatus>, type: string) =>
  status.conditions?.find((c) => c.type === type);

describe("computeStatus", () => {
  it("reports a valid, applied policy Ready with its generation and hash", () => {
    const status = computeStatus(input());
    expect(status).toMatchObject({ observedGeneration: 3, configHash: "sha256:1" });
    expect(condition(status, "Ready")).toMatchObject({
      status: "True",
      reason: "ConfigApplied",
      observedGeneration: 3,
    });
    expect(condition(status, "Valid")).toMatchObject({ status: "True" });
    expect(condition(status, "Degraded")).toMatchObject({ status: "False", reason: "AsExpected" });
  });

  it.each([
    [
      "InvalidSpec",
      {
        valid: false as const,
        reason: "InvalidSpec" as const,
        message: "spec.routes[0].path: bad",
        stored: storedPolicy({}),
      },
    ],
    [
      "OverlappingSelector",
      {
        valid: false as const,
        reason: "OverlappingSelector" as const,
        message: "overlaps",
        stored: storedPolicy({}),
      },
    ],
  ])("reports an invalid policy (%s) not Ready, not Valid, keeping the last hash", (reason, verdict) => {
    const status = computeStatus(input({ verdict, configHash: "sha256:old" }));
    expect(condition(status, "Valid")).toMatchObject({ status: "False", reason });
    expect(condition(status, "Ready")).toMatchObject({
      status: "False",
      reason,
      message: expect.stringContaining("last valid configuration"),
    });
    expect(status.configHash).toBe("sha256:old");
  });

  it("reports pods with no such named port as Degraded", () => {
    const status = computeStatus(input({ pods: { ...NO_PODS, selected: 2, missingPort: ["a", "b"] } }));
    expect(condition(status, "Degraded")).toMatchObject({
      status: "True",
      reason: "UnknownUpstreamPort",
      message: expect.stringContaining("2 of 2"),
    });
  });

  it("reports selected pods the webhook missed as Degraded, saying how to inject them", () => {
    const status = computeStatus(
      input({ pods: { ...NO_PODS, selected: 3, injected: 1, notInjected: ["a", "b"] } }),
    );
    expect(condition(status, "Degraded")).toMatchObject({
      status: "True",
      reason: "PodsNotInjected",
      message: expect.stringMatching(
        /2 of 3 selected pods run without the sidecar \(a, b\).*rollout restart/,
      ),
    });
    expect(condition(status, "Ready")?.status).toBe("True");
  });

  it("warns when several injected pods each keep their own store while writes invalidate", () => {
    const invalidate = [{ name: "booked", path: "/api/v2/appointments", tags: ["barber:1"] }];
    const memoryOnly = parseStored(storedPolicy({ spec: { invalidate } }));
    const withRedis = parseStored(storedPolicy({ redis: true, spec: { invalidate } }));
    const readOnly = parseStored(storedPolicy({}));
    const degraded = (verdict: typeof valid, injected: number) =>
      condition(
        computeStatus(input({ verdict, pods: { ...NO_PODS, selected: injected, injected } })),
        "Degraded",
      );
    expect(degraded(memoryOnly, 3)).toMatchObject({
      status: "True",
      reason: "StoreNotShared",
      message: expect.stringMatching(/3 pods .* writes through one pod do not invalidate the others/),
    });
    expect(degraded(memoryOnly, 1)?.reason).toBe("AsExpected");
    expect(degraded(withRedis, 3)?.reason).toBe("AsExpected");
    expect(degraded(readOnly, 3)?.reason).toBe("AsExpected");
  });

  it("reports an unknown port before pods the webhook missed", () => {
    const pods = { ...NO_PODS, selected: 2, missingPort: ["a"], notInjected: ["b"] };
    expect(condition(computeStatus(input({ pods })), "Degraded")?.reason).toBe("UnknownUpstreamPort");
  });

  it("reports an apply failure as Ready=False ApplyFailed", () => {
    expect(condition(computeStatus(input({ applyError: "boom." })), "Ready")).toMatchObject({
      status: "False",
      reason: "ApplyFailed",
    });
  });

  describe("lastTransitionTime", () => {
    const first = computeStatus(input({ now: T0 }));

    it("stays when the status stays (even if reason or message change)", () => {
      const again = computeStatus(input({ now: T1, previous: first, configHash: "sha256:2", generation: 4 }));
      expect(condition(again, "Ready")?.lastTransitionTime).toBe("2025-05-01T10:00:00Z");
      expect(condition(again, "Ready")?.observedGeneration).toBe(4);
    });

    it("moves when the status changes", () => {
      const broken = computeStatus(input({ now: T1, previous: first, applyError: "x." }));
      expect(condition(broken, "Ready")?.lastTransitionTime).toBe("2025-05-01T10:05:00Z");
      expect(condition(broken, "Valid")?.lastTransitionTime).toBe("2025-05-01T10:00:00Z");
    });
  });

  it("changedConditions lists only new or changed conditions", () => {
    const before = setConditions(undefined, [{ type: "A", status: "True", reason: "R", message: "m" }], {
      generation: 1,
      now: T0,
    });
    const after = setConditions(
      before,
      [
        { type: "A", status: "True", reason: "R", message: "m2" },
        { type: "B", status: "False", reason: "S", message: "" },
      ],
      { generation: 1, now: T1 },
    );
    expect(changedConditions(before, after).map((c) => c.type)).toEqual(["B"]);
  });
});

describe("countPods", () => {
  const p = policy();
  const status = (configHash: string) => ({
    "apicache.io/status": JSON.stringify({
      policy: "booking-api",
      configHash,
      version: "0.1.0",
      native: true,
    }),
  });
  const withAnnotations = (annotations: Record<string, string>) => {
    const pod = bookingPod();
    pod.metadata = { ...pod.metadata, annotations };
    return pod;
  };

  it("counts selected, injected and up-to-date pods, and the service accounts of the injected ones", () => {
    const pods = [
      withAnnotations(status("sha256:new")),
      withAnnotations(status("sha256:old")),
      bookingPod({ serviceAccountName: "legacy" }),
      bookingPod({}, { app: "other" }),
      { ...bookingPod(), status: { phase: "Succeeded" } },
    ];
    expect(countPods(pods, p, "sha256:new")).toEqual({
      selected: 3,
      injected: 2,
      upToDate: 1,
      missingPort: [],
      notInjected: [bookingPod().metadata?.name ?? ""],
      serviceAccounts: ["booking-api"], // not "legacy": that pod has no sidecar to read the ConfigMap
    });
  });

  it("does not count pods that opted out as missed", () => {
    const pod = bookingPod({}, { app: "booking-api", "apicache.io/inject": "false" });
    expect(countPods([pod], p, "h")).toMatchObject({ selected: 1, notInjected: [], missingPort: [] });
  });

  it("lists selected pods lacking the named port", () => {
    const pod = bookingPod({
      containers: [{ name: "api", image: "x", ports: [{ name: "web", containerPort: 80 }] }],
    });
    pod.metadata = { ...pod.metadata, name: "p-1" };
    expect(countPods([pod], p, "h").missingPort).toEqual(["p-1"]);
  });
});
