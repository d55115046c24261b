// The operator's pod as the chart renders it (real helm): a grace period that covers the operator's own
// stop sequence, read through the operator's own flag parser; and a security context that OpenShift's
// restricted SCCs admit.
import { spawnSync } from "node:child_process";
import { parseConfig } from "@apicache/operator";
import type { V1Container, V1Deployment, V1PodSpec, V1SecurityContext } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { CHART_DIR, HELMS, helm, type K8sObject, template } from "./helm.js";

const NAMESPACE = "apicache-system";
const OPENSHIFT = ["security.openshift.io/v1"];

function deployments(objects: readonly K8sObject[]): V1Deployment[] {
  return objects.filter((o) => o.kind === "Deployment") as unknown as V1Deployment[];
}

function operatorPod(objects: readonly K8sObject[]): { pod: V1PodSpec; container: V1Container } {
  const pod = deployments(objects).find(
    (d) => d.metadata?.labels?.["app.kubernetes.io/component"] === "operator",
  )?.spec?.template.spec;
  const container = pod?.containers.find((c) => c.name === "operator");
  if (!pod || !container) throw new Error("the chart rendered no operator container");
  return { pod, container };
}

/** The operator's configuration from the Deployment's args, parsed exactly as the operator parses them. */
function operatorConfig(container: V1Container) {
  const argv = (container.args ?? []).map((arg) =>
    arg.replaceAll("$(POD_NAMESPACE)", NAMESPACE).replaceAll("$(POD_NAME)", "apicache-0"),
  );
  return parseConfig({ argv, env: {}, hostname: "apicache-0" });
}

describe("stopping the operator", () => {
  // On SIGTERM the operator (index.ts stop()) reports not ready, stops its controller and hands the
  // Lease over (the release is bounded by --renew-deadline), then keeps answering the webhook for
  // --shutdown-delay, then closes the listener once the reviews in flight are answered (the API
  // server gives up on one after the webhook's timeoutSeconds). The kubelet must not cut that short.
  const cases: [string, Record<string, string | number>][] = [
    ["the defaults", {}],
    ["a longer shutdown delay", { "operator.shutdownDelaySeconds": 25 }],
    ["no shutdown delay", { "operator.shutdownDelaySeconds": 0 }],
    ["the longest webhook timeout", { "webhook.timeoutSeconds": 30 }],
  ];

  it.each(cases)(
    "gives the pod a grace period covering lease hand-over, shutdown delay and reviews in flight, with %s",
    async (_what, values) => {
      const { pod, container } = operatorPod(await template("helm4", values));
      const config = operatorConfig(container);
      const grace = pod.terminationGracePeriodSeconds ?? 30;
      const needed =
        Math.ceil((config.renewDeadlineMs + config.shutdownDelayMs) / 1000) + config.webhookTimeoutSeconds;
      expect(grace).toBeGreaterThanOrEqual(needed);
    },
  );

  it.each(cases)(
    "passes operator.shutdownDelaySeconds as --shutdown-delay, with %s",
    async (_what, values) => {
      const { container } = operatorPod(await template("helm4", values));
      const expected = Number(values["operator.shutdownDelaySeconds"] ?? 5);
      expect(container.args?.filter((a) => a.startsWith("--shutdown-delay"))).toEqual([
        `--shutdown-delay=${expected}s`,
      ]);
      expect(operatorConfig(container).shutdownDelayMs).toBe(expected * 1000);
    },
  );

  it("derives the grace period from the delay: each second more of delay is a second more of grace", async () => {
    const grace = async (delay: number) =>
      operatorPod(await template("helm4", { "operator.shutdownDelaySeconds": delay })).pod
        .terminationGracePeriodSeconds;
    expect((await grace(40)) ?? 0).toBe(((await grace(10)) ?? 0) + 30);
  });

  it("adds no preStop hook: the operator's own shutdown delay keeps the webhook answering", async () => {
    const { container } = operatorPod(await template("helm4"));
    expect(container.lifecycle?.preStop).toBeUndefined();
  });

  it.each(HELMS)(
    "%s refuses --shutdown-delay in operator.extraArgs (the grace period would not follow it)",
    async (which) => {
      const result = await helm(which, [
        "template",
        "apicache",
        CHART_DIR,
        "--set",
        "operator.extraArgs[0]=--shutdown-delay=60s",
      ]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain("operator.shutdownDelaySeconds");
    },
  );

  it.each([
    ["a negative delay", "operator.shutdownDelaySeconds=-1"],
    ["a delay over 5 minutes", "operator.shutdownDelaySeconds=301"],
  ])("rejects %s", async (_what, set) => {
    const result = await helm("helm4", ["template", "apicache", CHART_DIR, "--set", set]);
    expect(result.stderr).toMatch(/values don't meet the specifications of the schema/);
    expect(result.code).not.toBe(0);
  });
});

/** Every pod- and container-level security context of every Deployment the chart renders. */
function securityContexts(objects: readonly K8sObject[]) {
  return deployments(objects).flatMap((deployment) => {
    const pod = deployment.spec?.template.spec as V1PodSpec;
    const name = deployment.metadata?.name ?? "";
    return [
      { where: `${name} pod`, context: (pod.securityContext ?? {}) as V1SecurityContext },
      ...pod.containers.map((c) => ({ where: `${name}/${c.name}`, context: c.securityContext ?? {} })),
    ];
  });
}

const PINNED_IDS = ["runAsUser", "runAsGroup", "fsGroup"] as const;

function pinnedIds(objects: readonly K8sObject[]): string[] {
  return securityContexts(objects).flatMap(({ where, context }) =>
    PINNED_IDS.filter((id) => id in context).map((id) => `${where}: ${id}`),
  );
}

describe("security context on OpenShift", () => {
  const withRedis = { "redis.bundled.enabled": true };

  it.each(HELMS)(
    "%s leaves runAsUser, runAsGroup and fsGroup to the SCC when the cluster serves security.openshift.io/v1",
    async (which) => {
      const objects = await template(which, withRedis, { apiVersions: OPENSHIFT });
      expect(deployments(objects)).toHaveLength(2);
      expect(pinnedIds(objects)).toEqual([]);
    },
  );

  it("still pins the image's UIDs elsewhere (65532 for the operator, 999 for the demo Redis)", async () => {
    const objects = await template("helm4", withRedis);
    const pods = deployments(objects).map((d) => d.spec?.template.spec?.securityContext);
    expect(pods).toEqual([
      expect.objectContaining({ runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532 }),
      expect.objectContaining({ runAsUser: 999, runAsGroup: 999, fsGroup: 999 }),
    ]);
  });

  it.each([
    ["force, on any cluster", "force", [], false],
    ["disabled, even on OpenShift", "disabled", OPENSHIFT, true],
    ["auto, off OpenShift", "auto", [], true],
  ] as const)("openshift.adaptSecurityContext=%s", async (_what, mode, apiVersions, pinned) => {
    const objects = await template(
      "helm4",
      { ...withRedis, "openshift.adaptSecurityContext": mode },
      { apiVersions },
    );
    expect(pinnedIds(objects).length > 0).toBe(pinned);
    // The injected sidecars follow: the operator is told to leave their IDs to the cluster too.
    expect(operatorConfig(operatorPod(objects).container).sidecarPinUser).toBe(pinned);
  });

  it("keeps what the restricted SCC and the restricted Pod Security Standard require", async () => {
    const objects = await template("helm4", withRedis, { apiVersions: OPENSHIFT });
    for (const deployment of deployments(objects)) {
      const pod = deployment.spec?.template.spec as V1PodSpec;
      expect(pod.securityContext, deployment.metadata?.name).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: "RuntimeDefault" },
      });
      for (const container of pod.containers) {
        expect(container.securityContext, container.name).toMatchObject({
          allowPrivilegeEscalation: false,
          runAsNonRoot: true,
          capabilities: { drop: ["ALL"] },
        });
        expect(container.securityContext?.privileged ?? false).toBe(false);
      }
    }
  });

  it("rejects an unknown adaptSecurityContext mode", async () => {
    const result = await helm("helm4", [
      "template",
      "apicache",
      CHART_DIR,
      "--set",
      "openshift.adaptSecurityContext=yes",
    ]);
    expect(result.stderr).toMatch(/values don't meet the specifications of the schema/);
    expect(result.code).not.toBe(0);
  });
});

describe("the operator's heap", () => {
  const MiB = 1024 * 1024;
  const nodeOptions = (container: V1Container) =>
    container.env?.find((e) => e.name === "NODE_OPTIONS")?.value;
  /** What V8 makes of those options: the heap limit a real `node` reports with them. */
  const heapLimit = (options: string) => {
    const result = spawnSync(process.execPath, ["-p", "v8.getHeapStatistics().heap_size_limit"], {
      env: { ...process.env, NODE_OPTIONS: options },
      encoding: "utf8",
    });
    if (result.status !== 0) throw new Error(`node rejected NODE_OPTIONS=${options}: ${result.stderr}`);
    return Number(result.stdout.trim());
  };

  // V8's heap limit is the old-space ceiling plus the young generation (up to 48 MiB here).
  it.each([
    ["256Mi", 256],
    ["384Mi (the default)", 384],
    ["1Gi", 1024],
  ])(
    "stays below a memory limit of %s (garbage is collected before the kernel kills the pod)",
    async (limit, mib) => {
      const values: Record<string, string> = limit.includes("default")
        ? {}
        : { "operator.resources.limits.memory": limit };
      const { container } = operatorPod(await template("helm4", values));
      const limitBytes = heapLimit(nodeOptions(container) ?? "");
      expect(limitBytes).toBeLessThanOrEqual(0.8 * mib * MiB);
      expect(limitBytes).toBeGreaterThanOrEqual(0.5 * mib * MiB);
    },
  );

  it("is the given ceiling, or Node's own with 0", async () => {
    const given = operatorPod(await template("helm4", { "operator.maxHeapMiB": 300 })).container;
    expect(nodeOptions(given)).toContain("--max-old-space-size=300");
    const none = operatorPod(await template("helm4", { "operator.maxHeapMiB": 0 })).container;
    expect(nodeOptions(none)).toBeUndefined();
  });

  it("rejects a ceiling that is not auto, 0 or a number of MiB", async () => {
    await expect(template("helm4", { "operator.maxHeapMiB": "lots" })).rejects.toThrow(/maxHeapMiB/);
  });
});
