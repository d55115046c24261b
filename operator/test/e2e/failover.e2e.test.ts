import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestNamespace, type KubeClients } from "../../../testkit/src/kube/client.js";
import { e2eClients, e2eKubeconfigPath } from "../../../testkit/src/kube/e2e-context.js";
import { waitFor } from "../../../testkit/src/wait.js";
import {
  appPod,
  condition,
  createPolicy,
  deleteWebhookConfiguration,
  injectionNamespace,
  installCrd,
  policyManifest,
  startTestOperator,
  type TestOperator,
  waitForStatus,
  waitUntilInjecting,
} from "./harness.js";

const LEASE_DURATION_MS = 4_000; // --lease-duration in the harness

async function reconciles(operator: TestOperator): Promise<number> {
  const metric = await operator.handle.metrics.reconcileTotal.get();
  return metric.values.filter((v) => v.labels.result !== "requeue").reduce((sum, v) => sum + v.value, 0);
}

describe("two operator replicas", () => {
  let clients: KubeClients;
  let replicas: TestOperator[] = [];
  let ns: string;
  let bothLed = false;
  let sampler: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    clients = e2eClients();
    await installCrd(clients);
    const opNamespace = await createTestNamespace(clients, "apicache-op");
    ns = await injectionNamespace(clients, "failover");
    const kubeconfig = e2eKubeconfigPath();
    replicas = [
      await startTestOperator({
        kubeconfig,
        namespace: opNamespace,
        group: "failover",
        identity: "replica-a",
      }),
      await startTestOperator({
        kubeconfig,
        namespace: opNamespace,
        group: "failover",
        identity: "replica-b",
      }),
    ];
    sampler = setInterval(() => {
      if (replicas.filter((r) => r.handle.isLeader()).length > 1) bothLed = true;
    }, 20);
  });

  afterAll(async () => {
    clearInterval(sampler);
    await Promise.all(replicas.map((r) => r.stop().catch(() => undefined)));
    await deleteWebhookConfiguration(clients, replicas[0]?.configurationName ?? "");
  });

  it("elect exactly one leader, which alone reconciles", async () => {
    const leader = await waitFor("a leader", () => replicas.find((r) => r.handle.isLeader()), {
      timeoutMs: 15_000,
    });
    await createPolicy(clients, policyManifest("api", ns));
    await waitForStatus(clients, ns, "api", (p) => condition(p, "Ready")?.status === "True");
    const follower = replicas.find((r) => r !== leader) as TestOperator;
    // The status is written during the reconcile; the counter moves when it returns.
    await waitFor("the leader to count its reconcile", async () => (await reconciles(leader)) > 0, {
      timeoutMs: 5_000,
    });
    expect(await reconciles(follower)).toBe(0);
  });

  it("hand over to the other replica within the lease duration when the leader dies, without double injection", async () => {
    await waitUntilInjecting(clients, ns, { app: "api" });
    const leader = replicas.find((r) => r.handle.isLeader()) as TestOperator;
    const follower = replicas.find((r) => r !== leader) as TestOperator;
    const stoppedAt = Date.now();
    await leader.stop({ release: false }); // a crash: the lease is not released
    await waitFor("the follower to take over", () => follower.handle.isLeader(), {
      timeoutMs: 3 * LEASE_DURATION_MS,
      intervalMs: 20,
    });
    const takeoverMs = Date.now() - stoppedAt;
    console.log(
      `failover: the follower led ${takeoverMs} ms after the leader stopped (lease duration ${LEASE_DURATION_MS} ms)`,
    );
    expect(takeoverMs).toBeLessThanOrEqual(LEASE_DURATION_MS + 1_000);

    // The new leader re-registers the webhook at its own address and keeps reconciling.
    await waitUntilInjecting(clients, ns, { app: "api" });
    const pod = await clients.core.createNamespacedPod({
      namespace: ns,
      body: appPod("after-failover", { app: "api" }),
    });
    const sidecars = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].filter(
      (c) => c.name === "apicache-sidecar",
    );
    expect(sidecars).toHaveLength(1);
    const policy = await waitForStatus(clients, ns, "api", (p) => p.status?.injectedPods === 1);
    expect(policy.status?.selectedPods).toBe(1);
    await waitFor("the new leader to count its reconciles", async () => (await reconciles(follower)) > 0, {
      timeoutMs: 5_000,
    });
    expect(bothLed).toBe(false);
  });
});
