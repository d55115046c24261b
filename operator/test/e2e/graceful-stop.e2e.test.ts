import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeClients } from "../../../testkit/src/kube/client.js";
import { e2eClients, e2eKubeconfigPath } from "../../../testkit/src/kube/e2e-context.js";
import { waitFor } from "../../../testkit/src/wait.js";
import { appPod, deleteWebhookConfiguration, startInjectingOperator, type TestOperator } from "./harness.js";

const DELAY_MS = 3_000;

async function readyz(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  await res.text();
  return res.status;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe("a graceful stop (SIGTERM)", () => {
  let clients: KubeClients;
  let operator: TestOperator;
  let ns: string;

  beforeAll(async () => {
    clients = e2eClients();
    ({ operator, ns } = await startInjectingOperator(clients, {
      kubeconfig: e2eKubeconfigPath(),
      prefix: "stop",
      args: [`--shutdown-delay=${DELAY_MS}ms`],
    }));
  });

  afterAll(async () => {
    await operator?.stop().catch(() => undefined);
    if (operator) await deleteWebhookConfiguration(clients, operator.configurationName);
  });

  it("reports not ready and hands the lease over at once, keeps injecting for the delay, then closes", async () => {
    const { metricsPort } = operator.handle;
    const webhookPort = operator.handle.webhookPort() as number;
    const started = Date.now();
    const stopped = operator.stop();
    await waitFor("readyz to fail and the lease to be released", async () => {
      return (await readyz(metricsPort)) === 503 && !operator.handle.isLeader();
    });
    // Still inside the delay: a pod admitted now gets its sidecar from this replica.
    const created = await clients.core.createNamespacedPod({
      namespace: ns,
      body: appPod("during-stop", { app: "api" }),
    });
    expect(Date.now() - started).toBeLessThan(DELAY_MS);
    const names = [...(created.spec?.initContainers ?? []), ...(created.spec?.containers ?? [])].map(
      (c) => c.name,
    );
    expect(names).toContain("apicache-sidecar");
    await stopped;
    expect(Date.now() - started).toBeGreaterThanOrEqual(DELAY_MS);
    expect(await accepts(webhookPort)).toBe(false);
  });
});
