// The operator watches the Role and RoleBinding it renders per CachePolicy and repairs drift at once:
// with a 10-minute resync, only its informers can explain a repair within seconds.

import { RbacAuthorizationV1Api, type V1RoleBinding } from "@kubernetes/client-node";
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

const RESYNC = "10m";
/** Far below the resync period; generous for a watch event plus one reconcile on a shared machine. */
const REPAIR_DEADLINE_MS = 5_000;
const NAME = "apicache-orders";

describe("drift of the RBAC objects the operator owns", () => {
  let clients: KubeClients;
  let rbac: RbacAuthorizationV1Api;
  let operator: TestOperator;
  let ns: string;

  beforeAll(async () => {
    clients = e2eClients();
    rbac = clients.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    await installCrd(clients);
    const opNamespace = await createTestNamespace(clients, "apicache-op");
    ns = await injectionNamespace(clients, "drift");
    await clients.core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: "api" } } });
    operator = await startTestOperator({
      kubeconfig: e2eKubeconfigPath(),
      namespace: opNamespace,
      args: [`--resync-period=${RESYNC}`],
    });
    await createPolicy(clients, policyManifest("orders", ns));
    await waitForStatus(clients, ns, "orders", (p) => condition(p, "Ready")?.status === "True");
    // The Role and RoleBinding come with the first pod that runs the policy's sidecar.
    await waitUntilInjecting(clients, ns, { app: "orders" });
    await clients.core.createNamespacedPod({
      namespace: ns,
      body: appPod("api-0", { app: "orders" }, { serviceAccountName: "api" }),
    });
    await waitFor(
      "the RoleBinding to name the pod's service account",
      async () => subjectNames(await rbac.readNamespacedRoleBinding({ namespace: ns, name: NAME })) === "api",
      { timeoutMs: 15_000 },
    );
  });

  /** Polls the policy's RoleBinding until its subjects are `names` (comma-separated), within the deadline. */
  const bindingNaming = (names: string, description: string) =>
    waitFor(
      description,
      async () => {
        const binding = await rbac.readNamespacedRoleBinding({ namespace: ns, name: NAME });
        return subjectNames(binding) === names ? binding : undefined;
      },
      { timeoutMs: REPAIR_DEADLINE_MS, intervalMs: 50 },
    );

  afterAll(async () => {
    await operator?.stop();
    if (operator) await deleteWebhookConfiguration(clients, operator.configurationName);
  });

  it(`recreates a deleted Role within ${REPAIR_DEADLINE_MS} ms (resync: ${RESYNC})`, async () => {
    const before = await rbac.readNamespacedRole({ namespace: ns, name: NAME });
    await rbac.deleteNamespacedRole({ namespace: ns, name: NAME });

    const recreated = await waitFor(
      "the operator to recreate the Role",
      async () => {
        const role = await rbac.readNamespacedRole({ namespace: ns, name: NAME });
        return role.metadata?.uid !== before.metadata?.uid ? role : undefined;
      },
      { timeoutMs: REPAIR_DEADLINE_MS, intervalMs: 50 },
    );

    expect(recreated.rules).toEqual(before.rules);
    expect(recreated.rules).toEqual([
      expect.objectContaining({ resourceNames: [NAME], verbs: ["get", "list", "watch"] }),
    ]);
    expect(recreated.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: "CachePolicy", name: "orders", controller: true }),
    ]);
  });

  it(`restores a RoleBinding's edited subjects within ${REPAIR_DEADLINE_MS} ms (resync: ${RESYNC})`, async () => {
    const before = await rbac.readNamespacedRoleBinding({ namespace: ns, name: NAME });
    // What `kubectl edit` does: a full update by another field manager.
    const edited = await rbac.replaceNamespacedRoleBinding({
      namespace: ns,
      name: NAME,
      body: { ...before, subjects: [{ kind: "ServiceAccount", name: "intruder", namespace: ns }] },
    });
    expect(subjectNames(edited)).toBe("intruder");

    const repaired = await bindingNaming("api", "the operator to restore the RoleBinding's subjects");

    expect(repaired.subjects).toEqual([{ kind: "ServiceAccount", name: "api", namespace: ns }]);
    expect(repaired.roleRef).toEqual(before.roleRef);
  });

  it(`empties the RoleBinding once no pod runs the sidecar, and names the account again with the next injected pod, each within ${REPAIR_DEADLINE_MS} ms`, async () => {
    await clients.core.deleteNamespacedPod({ namespace: ns, name: "api-0", gracePeriodSeconds: 0 });
    const emptied = await bindingNaming("", "the RoleBinding to name nobody");
    // The API server stores an empty list as no `subjects` at all; the operator reads it as emptied.
    expect(emptied.subjects ?? []).toEqual([]);
    await clients.core.createNamespacedPod({
      namespace: ns,
      body: appPod("api-1", { app: "orders" }, { serviceAccountName: "api" }),
    });
    await bindingNaming("api", "the RoleBinding to name the new pod's service account");
  });
});

function subjectNames(binding: V1RoleBinding): string {
  return (binding.subjects ?? []).map((s) => s.name).join(",");
}
