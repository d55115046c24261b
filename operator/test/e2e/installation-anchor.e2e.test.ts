import { CoordinationV1Api, PatchStrategy, type V1ObjectMeta } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiFailure, createTestNamespace, type KubeClients } from "../../../testkit/src/kube/client.js";
import { e2eClients, e2eKubeconfigPath } from "../../../testkit/src/kube/e2e-context.js";
import { waitFor } from "../../../testkit/src/wait.js";
import { OPERATOR_ERROR_CODES } from "../../src/errors.js";
import { webhookConfiguration } from "../../src/webhook/webhook-configuration.js";
import {
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

// The MutatingWebhookConfiguration is the installation's anchor (ADR 0007): the operator's Lease and
// Secret name it as owner, and once it is gone the operator creates neither again (nor the
// configuration) until it is back. This API server runs no garbage collector: the test deletes what
// the collector would, and asserts what the operator writes and refuses.
const GROUP = "anchor";
const LEASE = `apicache-${GROUP}`;
const SECRET = `apicache-webhook-${GROUP}`;
const SEEN = "the installation's MutatingWebhookConfiguration is there: creating with it as owner";

describe("the webhook configuration as the installation's anchor", () => {
  let clients: KubeClients;
  let leases: CoordinationV1Api;
  let opNamespace: string;
  let ns: string;
  const replicas: TestOperator[] = [];
  const exited: string[] = [];

  const configurationName = () => replicas[0]?.configurationName ?? "";
  const leader = () => replicas.find((r) => r.handle.isLeader());
  const readOrUndefined = async <T>(read: () => Promise<T>): Promise<T | undefined> =>
    read().catch((error: unknown) => {
      if (apiFailure(error)?.code === 404) return undefined;
      throw error;
    });
  const lease = () =>
    readOrUndefined(() => leases.readNamespacedLease({ name: LEASE, namespace: opNamespace }));
  const secret = () =>
    readOrUndefined(() => clients.core.readNamespacedSecret({ name: SECRET, namespace: opNamespace }));
  const configuration = () =>
    readOrUndefined(() => clients.admission.readMutatingWebhookConfiguration({ name: configurationName() }));
  const owners = (metadata: V1ObjectMeta | undefined) => metadata?.ownerReferences?.map((ref) => ref.uid);
  const refusals = (replica: TestOperator, object: string) =>
    replica.logs.filter(
      (line) =>
        (line.err as { code?: string } | undefined)?.code === OPERATOR_ERROR_CODES.INSTALLATION_GONE &&
        line.object === object,
    );
  /** What `kubectl delete mutatingwebhookconfiguration` and then the garbage collector do. */
  const removeInstallation = async () => {
    await clients.admission.deleteMutatingWebhookConfiguration({ name: configurationName() });
    await leases.deleteNamespacedLease({ name: LEASE, namespace: opNamespace }).catch(() => undefined);
    await clients.core
      .deleteNamespacedSecret({ name: SECRET, namespace: opNamespace })
      .catch(() => undefined);
  };

  beforeAll(async () => {
    clients = e2eClients();
    leases = clients.kubeConfig.makeApiClient(CoordinationV1Api);
    await installCrd(clients);
    opNamespace = await createTestNamespace(clients, "apicache-op");
    ns = await injectionNamespace(clients, "anchor");
    for (const identity of ["replica-a", "replica-b"]) {
      const replica = await startTestOperator({
        kubeconfig: e2eKubeconfigPath(),
        namespace: opNamespace,
        group: GROUP,
        identity,
        logLevel: "info",
      });
      void replica.handle.done.then(() => exited.push(identity));
      replicas.push(replica);
    }
    await createPolicy(clients, policyManifest("api", ns));
  });

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop().catch(() => undefined)));
    await deleteWebhookConfiguration(clients, configurationName());
  });

  it("names the configuration as owner of the Lease and the Secret, also when they were written before it existed", async () => {
    // Here the leader creates the configuration itself (never seen before: "not created yet").
    await waitFor("a leader", leader, { timeoutMs: 15_000 });
    await waitForStatus(clients, ns, "api", (p) => condition(p, "Ready")?.status === "True");
    const uid = await waitFor("the configuration", async () => (await configuration())?.metadata?.uid);
    await waitFor("the Lease and the Secret owned by the configuration", async () => {
      const [l, s] = await Promise.all([lease(), secret()]);
      return owners(l?.metadata)?.[0] === uid && owners(s?.metadata)?.[0] === uid;
    });
    await waitUntilInjecting(clients, ns, { app: "api" });
    // Both replicas started before the leader created the configuration (out of cluster: the chart
    // creates it before the pods start). "Gone" means gone after a replica has seen it, so the next
    // test starts once each replica has: a follower that has not yet looked may read the 404 as
    // "not created yet" (narrowed by ReleaseOwner.learn, not closed; see docs/operator.md).
    await waitFor("both replicas to have seen the configuration", () =>
      replicas.every((r) => r.logs.some((line) => line.msg === SEEN)),
    );
  });

  it("creates nothing again once the configuration is gone, says why, and keeps its leader", async () => {
    const before = leader() as TestOperator;
    await removeInstallation();
    await waitFor(
      "both replicas to refuse the Lease, and the leader the configuration",
      () =>
        replicas.every((r) => refusals(r, `Lease ${opNamespace}/${LEASE}`).length > 0) &&
        refusals(before, `MutatingWebhookConfiguration ${configurationName()}`).length > 0,
      { timeoutMs: 15_000 },
    ).catch(async (error: unknown) => {
      // What each replica did meanwhile, and what the API server holds: the failure explained.
      const lines = replicas.flatMap((r) =>
        r.logs
          .slice(-25)
          .map((line) => `${r.identity}${r.handle.isLeader() ? " (leader)" : ""}: ${JSON.stringify(line)}`),
      );
      const held = await lease().catch(() => undefined);
      throw new Error(
        `${(error as Error).message}\nexited: ${JSON.stringify(exited)}; Lease now: ${JSON.stringify(held?.spec)}\n${lines.join("\n")}`,
      );
    });
    expect(await lease()).toBeUndefined();
    expect(await secret()).toBeUndefined();
    expect(await configuration()).toBeUndefined();
    const [line] = refusals(before, `Lease ${opNamespace}/${LEASE}`);
    expect(line).toMatchObject({ level: 40, configuration: configurationName() });
    expect(line?.err).toMatchObject({ message: expect.stringContaining("helm upgrade") });
    expect(leader()).toBe(before);
    expect(exited).toEqual([]);
  });

  it("resumes with the new configuration when it comes back (helm upgrade): Lease, Secret, caBundle, injection", async () => {
    const before = leader() as TestOperator;
    const restoredAt = Date.now();
    // What the chart's manifest holds: no caBundle (the leader publishes it).
    const body = webhookConfiguration({
      name: configurationName(),
      operatorNamespace: opNamespace,
      target: { url: `https://127.0.0.1:${before.handle.webhookPort()}` },
      timeoutSeconds: 5,
    });
    await clients.objects.patch(
      body as never,
      undefined,
      undefined,
      "helm",
      true,
      PatchStrategy.ServerSideApply,
    );
    const uid = (await configuration())?.metadata?.uid;
    await waitFor(
      "a Lease and a Secret owned by the new configuration, and its caBundle",
      async () => {
        const [l, s, c] = await Promise.all([lease(), secret(), configuration()]);
        return (
          owners(l?.metadata)?.[0] === uid &&
          owners(s?.metadata)?.[0] === uid &&
          c?.webhooks?.[0]?.clientConfig.caBundle !== undefined
        );
      },
      { timeoutMs: 20_000 },
    );
    // Created after the configuration came back: nothing was written while it was gone.
    const restored = await lease();
    expect(new Date(restored?.spec?.acquireTime as unknown as string).getTime()).toBeGreaterThanOrEqual(
      restoredAt,
    );
    expect(restored?.spec?.holderIdentity).toBe(before.identity);
    const created = (await secret())?.metadata?.creationTimestamp as unknown as string;
    expect(new Date(created).getTime()).toBeGreaterThanOrEqual(Math.floor(restoredAt / 1000) * 1000);
    await waitUntilInjecting(clients, ns, { app: "api" });
    expect(leader()).toBe(before);
    expect(exited).toEqual([]);
  });

  it("a graceful stop after the configuration went away leaves no Lease behind", async () => {
    await removeInstallation();
    await waitFor("both replicas to refuse the Lease again", () =>
      replicas.every((r) => refusals(r, `Lease ${opNamespace}/${LEASE}`).length > 1),
    );
    // The leader releases the Lease it held: a patch, which never creates a deleted one.
    await Promise.all(replicas.map((r) => r.stop()));
    expect(await lease()).toBeUndefined();
    expect(await secret()).toBeUndefined();
  });
});
