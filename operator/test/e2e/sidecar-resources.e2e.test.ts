// Injection into a namespace with a ResourceQuota on limits.cpu and a LimitRange capping a container's
// CPU at 300m, below the sidecar's default 500m limit (and setting no defaults): the injected pod is
// admitted by the real API server with the sidecar's CPU limit fitted to the LimitRange.
// Not shown here: this control plane (no controller-manager) refusing a container without a CPU limit;
// its quota and LimitRange admission checks did not refuse one within 45 s, for reasons not yet found.

import type { V1Container, V1Pod, V1ResourceRequirements } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeClients } from "../../../testkit/src/kube/client.js";
import { e2eClients, e2eKubeconfigPath } from "../../../testkit/src/kube/e2e-context.js";
import { waitFor } from "../../../testkit/src/wait.js";
import { appPod, deleteWebhookConfiguration, startInjectingOperator, type TestOperator } from "./harness.js";

// Generous: without a controller-manager nothing recomputes usage, and the wait below charges some.
const HARD = {
  "limits.cpu": "1000",
  "limits.memory": "1000Gi",
  "requests.cpu": "1000",
  "requests.memory": "1000Gi",
};

/** An app pod that declares its own resources, as the quota requires. */
function quotaPod(
  name: string,
  labels: Record<string, string>,
  resources: V1ResourceRequirements = APP_RESOURCES,
): V1Pod {
  const pod = appPod(name, labels);
  const app = pod.spec?.containers[0] as V1Container;
  app.resources = resources;
  return pod;
}

const APP_RESOURCES = { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } };

function sidecarOf(pod: V1Pod): V1Container | undefined {
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  return all.find((container) => container.name === "apicache-sidecar");
}

describe("injection under a ResourceQuota and a LimitRange", () => {
  let clients: KubeClients;
  let operator: TestOperator;
  let ns: string;

  beforeAll(async () => {
    clients = e2eClients();
    ({ operator, ns } = await startInjectingOperator(clients, {
      kubeconfig: e2eKubeconfigPath(),
      prefix: "quota",
    }));
    await clients.core.createNamespacedLimitRange({
      namespace: ns,
      body: {
        metadata: { name: "containers" },
        spec: {
          limits: [
            // No default/defaultRequest: nothing fills in a container's missing CPU limit.
            { type: "Container", max: { cpu: "300m" }, min: { memory: "16Mi" } },
          ],
        },
      },
    });
    // No kube-controller-manager here: the quota's status, which its admission plugin needs, is set by hand.
    await clients.core.createNamespacedResourceQuota({
      namespace: ns,
      body: { metadata: { name: "compute" }, spec: { hard: HARD } },
    });
    await clients.core.replaceNamespacedResourceQuotaStatus({
      namespace: ns,
      name: "compute",
      body: {
        metadata: { name: "compute", namespace: ns },
        spec: { hard: HARD },
        status: {
          hard: HARD,
          used: { "limits.cpu": "0", "limits.memory": "0", "requests.cpu": "0", "requests.memory": "0" },
        },
      },
    });
  });

  afterAll(async () => {
    await operator?.stop();
    if (operator) await deleteWebhookConfiguration(clients, operator.configurationName);
  });

  it("admits the pod with the sidecar, its CPU limit fitted under the LimitRange's max", async () => {
    // The webhook reads LimitRanges from an informer: wait until it has seen this one.
    const pod = await waitFor(
      "a pod admitted with the sidecar fitted to the LimitRange",
      async () => {
        const created = await clients.core.createNamespacedPod({
          namespace: ns,
          body: quotaPod(`api-${Date.now()}`, { app: "api" }),
        });
        return sidecarOf(created)?.resources?.limits?.cpu === "300m" ? created : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(sidecarOf(pod)?.resources).toEqual({
      requests: { cpu: "50m", memory: "64Mi" },
      limits: { cpu: "300m", memory: "288Mi" },
    });
    expect(pod.metadata?.annotations?.["apicache.io/status"]).toBeDefined();
  });
});
