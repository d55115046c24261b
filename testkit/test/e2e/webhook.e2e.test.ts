import type { V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestNamespace, type KubeClients } from "../../src/kube/client.js";
import { e2eClients } from "../../src/kube/e2e-context.js";
import { startWebhookServer, type WebhookServer } from "../../src/kube/webhook-server.js";

const podLabel = "apicache.io/webhook-e2e";

function pod(name: string): V1Pod {
  return {
    metadata: { name, labels: { [podLabel]: "true" } },
    spec: { containers: [{ name: "app", image: "example.invalid/app:1" }] },
  };
}

describe("a mutating webhook served by the test helper", () => {
  let clients: KubeClients;
  let namespace: string;
  let webhook: WebhookServer;

  beforeAll(async () => {
    clients = e2eClients();
    namespace = await createTestNamespace(clients, "webhook");
    webhook = await startWebhookServer({
      kubeConfig: clients.kubeConfig,
      rules: [
        {
          apiGroups: [""],
          apiVersions: ["v1"],
          operations: ["CREATE"],
          resources: ["pods"],
          scope: "Namespaced",
        },
      ],
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
      mutate: (request) =>
        request.object?.metadata?.labels?.[podLabel] === "true"
          ? [{ op: "add", path: "/metadata/annotations", value: { "apicache.io/mutated-by": "webhook-e2e" } }]
          : undefined,
    });
    // The configuration reaches the API server's webhook informer asynchronously: probe with dry runs.
    await webhook.waitUntilCalled(() =>
      clients.core.createNamespacedPod({ namespace, body: pod("probe"), dryRun: "All" }),
    );
  });

  afterAll(async () => {
    await webhook?.close();
  });

  describe("when a Pod is created", () => {
    it("receives the AdmissionReview and the API server stores the patched Pod", async () => {
      await clients.core.createNamespacedPod({ namespace, body: pod("mutated") });

      const review = await webhook.waitForReview(
        (r) => r.request.name === "mutated" || r.request.object?.metadata?.name === "mutated",
      );
      expect(review.request).toMatchObject({ operation: "CREATE", namespace, kind: { kind: "Pod" } });
      expect(review.request.dryRun).toBe(false);

      const stored = await clients.core.readNamespacedPod({ namespace, name: "mutated" });
      expect(stored.metadata?.annotations).toMatchObject({ "apicache.io/mutated-by": "webhook-e2e" });
    });
  });
});
