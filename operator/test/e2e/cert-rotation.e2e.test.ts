import { connect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeClients } from "../../../testkit/src/kube/client.js";
import { e2eClients, e2eKubeconfigPath } from "../../../testkit/src/kube/e2e-context.js";
import { appPod, deleteWebhookConfiguration, startInjectingOperator, type TestOperator } from "./harness.js";

/** The serial number of the certificate the webhook presents right now. */
function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on("error", reject);
  });
}

describe("webhook certificate rotation", () => {
  let clients: KubeClients;
  let operator: TestOperator;
  let ns: string;

  beforeAll(async () => {
    clients = e2eClients();
    ({ operator, ns } = await startInjectingOperator(clients, {
      kubeconfig: e2eKubeconfigPath(),
      prefix: "rotation",
      args: ["--cert-validity=6s", "--ca-validity=1h"],
    }));
  });

  afterAll(async () => {
    await operator?.stop();
    if (operator) await deleteWebhookConfiguration(clients, operator.configurationName);
  });

  it("renews the serving certificate before it expires and no admission fails meanwhile", async () => {
    const port = operator.handle.webhookPort() as number;
    const serials = new Set([await servedSerial(port)]);
    let created = 0;
    let notInjected = 0;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const pods = await Promise.all(
        [0, 1].map(() =>
          clients.core.createNamespacedPod({
            namespace: ns,
            body: appPod(`p-${created++}`, { app: "api" }),
            dryRun: "All",
          }),
        ),
      );
      notInjected += pods.filter((p) => p.metadata?.annotations?.["apicache.io/status"] === undefined).length;
      serials.add(await servedSerial(port));
    }
    console.log(
      `rotation: ${created} admissions, ${serials.size} serving certificates seen, ${notInjected} not injected`,
    );
    expect(serials.size).toBeGreaterThanOrEqual(2);
    expect(notInjected).toBe(0);
    const errors = await operator.handle.metrics.injectionsTotal.get();
    expect(errors.values.find((v) => v.labels.result === "error")?.value ?? 0).toBe(0);
  });
});
