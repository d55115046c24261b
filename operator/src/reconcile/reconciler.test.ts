import type { CachePolicyStatus } from "@apicache/crds";
import type { KubernetesObject, V1Pod } from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { bookingPod, injectedBookingPod, storedPolicy } from "../../test/fixtures.js";
import { FakeClock } from "../clock.js";
import { PolicyIndex } from "../policy/policy-index.js";
import type { StoredPolicy } from "../policy/types.js";
import type { PolicyEvent } from "./events.js";
import { type AppliedObject, type ClusterWriter, Reconciler } from "./reconciler.js";

class FakeWriter implements ClusterWriter {
  applied: AppliedObject[] = [];
  statuses: CachePolicyStatus[] = [];
  events: PolicyEvent[] = [];
  /** What create() was called with, and the objects (kind/name) that already exist in the "cluster". */
  created: AppliedObject[] = [];
  existing = new Set<string>();
  failApply = false;
  async apply(object: AppliedObject) {
    if (this.failApply) throw new Error("etcd unavailable");
    this.applied.push(object);
  }
  async create(object: AppliedObject) {
    this.created.push(object);
    const id = `${object.kind}/${object.metadata.name}`;
    if (this.existing.has(id)) return "exists" as const;
    this.existing.add(id);
    return "created" as const;
  }
  async patchStatus(_ns: string, _name: string, status: CachePolicyStatus) {
    this.statuses.push(status);
    return `rv-${this.statuses.length}`;
  }
  async event(_policy: StoredPolicy, event: PolicyEvent) {
    this.events.push(event);
  }
}

function setup(policies: StoredPolicy[], pods: V1Pod[] = [], owned?: Map<string, KubernetesObject>) {
  let tokens = 0;
  const writer = new FakeWriter();
  const store = { policies };
  const notInjected: [string, number][] = [];
  const reconciler = new Reconciler({
    getPolicy: (ns, name) =>
      store.policies.find((p) => p.metadata.namespace === ns && p.metadata.name === name),
    index: new PolicyIndex(() => store.policies),
    pods: () => pods,
    writer,
    clock: new FakeClock(Date.parse("2025-05-01T00:00:00Z")),
    log: pino({ level: "silent" }),
    newToken: () => `token-${++tokens}`,
    onNotInjected: (key, count) => notInjected.push([key, count]),
    ...(owned ? { owned: (kind, namespace, name) => owned.get(`${kind}/${namespace}/${name}`) } : {}),
  });
  return { writer, reconciler, store, notInjected };
}

/** What the API server would now hold: the status we wrote, at the resourceVersion it returned. */
function withStatus(policy: StoredPolicy, writer: FakeWriter): StoredPolicy {
  return {
    ...policy,
    metadata: { ...policy.metadata, resourceVersion: `rv-${writer.statuses.length}` },
    status: writer.statuses.at(-1),
  };
}

/**
 * The policy after an edit to generation 2 with `spec` (merged over the fixture's, as storedPolicy
 * does): what the API server would hold, its metadata and the status it had.
 */
function editedTo(current: StoredPolicy, spec: object): StoredPolicy {
  const edited = storedPolicy({ generation: 2, spec });
  return { ...edited, metadata: { ...current.metadata, generation: 2 }, status: current.status };
}

/** The owned-object cache holding a `kind` of the policy's name that another policy (uid) owns. */
function anotherPolicys(kind: string): Map<string, KubernetesObject> {
  const foreign = {
    metadata: { name: "apicache-booking-api", namespace: "shop", ownerReferences: [{ uid: "older-policy" }] },
  } as unknown as KubernetesObject;
  return new Map([[`${kind}/shop/apicache-booking-api`, foreign]]);
}

/** The API server refuses every Secret create (a ResourceQuota on Secrets). */
function refuseSecrets(writer: FakeWriter): void {
  const create = writer.create.bind(writer);
  writer.create = async (object) => {
    if (object.kind === "Secret") throw new Error("exceeded quota: count/secrets");
    return create(object);
  };
}

describe("reconciling a CachePolicy", () => {
  it("applies a new policy's ConfigMap and writes a Ready status; no RBAC and no Event for it, only the warning for the pod that predates it", async () => {
    const { writer, reconciler } = setup([storedPolicy({})], [bookingPod()]);
    await reconciler.reconcile("shop/booking-api");
    expect(writer.applied.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "ConfigMap/apicache-booking-api",
    ]);
    expect(writer.statuses[0]).toMatchObject({
      observedGeneration: 1,
      selectedPods: 1,
      injectedPods: 0,
      configHash: expect.stringMatching(/^sha256:/),
    });
    const ready = writer.statuses[0]?.conditions?.find((c) => c.type === "Ready");
    expect(ready).toMatchObject({ status: "True", reason: "ConfigApplied" });
    expect(writer.events.map((e) => e.reason)).toEqual(["PodsNotInjected"]);
  });

  it("grants a pod running its sidecar read access to exactly its ConfigMap: a Role and a RoleBinding for that pod's service account", async () => {
    const pods = [injectedBookingPod("sha256:any"), bookingPod({ serviceAccountName: "no-sidecar" })];
    const { writer, reconciler } = setup([storedPolicy({})], pods);
    await reconciler.reconcile("shop/booking-api");
    expect(writer.applied.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "ConfigMap/apicache-booking-api",
      "Role/apicache-booking-api",
      "RoleBinding/apicache-booking-api",
    ]);
    expect(writer.applied[1]).toMatchObject({
      rules: [{ resourceNames: ["apicache-booking-api"], verbs: ["get", "list", "watch"] }],
    });
    expect(writer.applied[2]).toMatchObject({
      subjects: [{ kind: "ServiceAccount", name: "booking-api", namespace: "shop" }],
    });
  });

  it("records a ConfigApplied Event when the configuration changes, not for the first one", async () => {
    const { writer, reconciler, store } = setup([storedPolicy({})]);
    await reconciler.reconcile("shop/booking-api");
    const first = withStatus(store.policies[0] as StoredPolicy, writer);
    store.policies = [editedTo(first, { routes: [{ name: "r", path: "/a/:id", ttl: "30s" }] })];
    await reconciler.reconcile("shop/booking-api");
    expect(writer.statuses.map((s) => s.configHash)).toEqual([first.status?.configHash, expect.any(String)]);
    expect(writer.statuses[1]?.configHash).not.toBe(first.status?.configHash);
    expect(writer.events.map((e) => e.reason)).toEqual(["ConfigApplied"]);
    expect(writer.events[0]?.message).toContain(writer.statuses[1]?.configHash);
  });

  it("records ConfigApplied for a policy applied for the first time after it was invalid", async () => {
    const bad = storedPolicy({ spec: { routes: [{ name: "r", path: "/a/:id", tags: ["u:{nope}"] }] } });
    const { writer, reconciler, store } = setup([bad]);
    await reconciler.reconcile("shop/booking-api");
    expect(writer.statuses[0]?.configHash).toBeUndefined();
    store.policies = [editedTo(withStatus(store.policies[0] as StoredPolicy, writer), {})];
    await reconciler.reconcile("shop/booking-api");
    expect(writer.events.map((e) => e.reason)).toEqual(["InvalidSpec", "ConfigApplied"]);
  });

  it("reports how many selected pods run without the sidecar, keeps that while the policy is invalid, and 0 once it is gone", async () => {
    const { reconciler, store, notInjected } = setup([storedPolicy({})], [bookingPod()]);
    await reconciler.reconcile("shop/booking-api");
    store.policies = [
      storedPolicy({ generation: 2, spec: { routes: [{ name: "r", path: "/a/:id", tags: ["u:{nope}"] }] } }),
    ];
    await reconciler.reconcile("shop/booking-api");
    store.policies = [];
    await reconciler.reconcile("shop/booking-api");
    expect(notInjected).toEqual([
      ["shop/booking-api", 1],
      ["shop/booking-api", 0],
    ]);
  });

  it("is idempotent: a second pass writes nothing and emits nothing", async () => {
    const { writer, reconciler, store } = setup([storedPolicy({})]);
    await reconciler.reconcile("shop/booking-api");
    store.policies = [withStatus(store.policies[0] as StoredPolicy, writer)];
    await reconciler.reconcile("shop/booking-api");
    expect(writer.applied).toHaveLength(1);
    expect(writer.statuses).toHaveLength(1);
    expect(writer.events).toHaveLength(0);
  });

  it("does not rewrite the status while its cache still shows the old one", async () => {
    const { writer, reconciler } = setup([storedPolicy({})]);
    await reconciler.reconcile("shop/booking-api");
    await reconciler.reconcile("shop/booking-api");
    expect(writer.statuses).toHaveLength(1);
  });

  it("writes its status again over someone else's, when the cache jumped past its own write (a relist after a gap)", async () => {
    const { writer, reconciler, store } = setup([storedPolicy({})]);
    await reconciler.reconcile("shop/booking-api");
    const ours = withStatus(store.policies[0] as StoredPolicy, writer);
    // Another writer replaced the status after ours; the relist shows only that later version.
    const theirs: StoredPolicy = {
      ...ours,
      metadata: { ...ours.metadata, resourceVersion: "rv-9" },
      status: { ...ours.status, conditions: [] },
    };
    store.policies = [theirs];
    await reconciler.reconcile("shop/booking-api");
    expect(writer.statuses).toHaveLength(2);
    expect(writer.statuses[1]).toEqual(writer.statuses[0]);
  });

  it("leaves the ConfigMap of a policy that became invalid untouched, and says why", async () => {
    const { writer, reconciler, store } = setup([storedPolicy({})]);
    await reconciler.reconcile("shop/booking-api");
    const good = withStatus(store.policies[0] as StoredPolicy, writer);
    store.policies = [editedTo(good, { routes: [{ name: "r", path: "/a/:id", tags: ["u:{nope}"] }] })];
    await reconciler.reconcile("shop/booking-api");
    expect(writer.applied).toHaveLength(1);
    const status = writer.statuses.at(-1);
    expect(status?.configHash).toBe(good.status?.configHash);
    expect(status?.conditions?.find((c) => c.type === "Valid")).toMatchObject({
      status: "False",
      reason: "InvalidSpec",
    });
    expect(writer.events.at(-1)).toMatchObject({ type: "Warning", reason: "InvalidSpec" });
  });

  it("marks the younger of two overlapping policies invalid", async () => {
    const older = storedPolicy({
      name: "a",
      selector: { matchLabels: { app: "x" } },
      created: "2025-01-01T00:00:00Z",
    });
    const younger = storedPolicy({
      name: "b",
      selector: { matchLabels: { app: "x" } },
      created: "2025-01-02T00:00:00Z",
    });
    const { writer, reconciler } = setup([younger, older]);
    await reconciler.reconcile("shop/b");
    expect(writer.applied).toHaveLength(0);
    expect(writer.statuses[0]?.conditions?.find((c) => c.type === "Valid")).toMatchObject({
      reason: "OverlappingSelector",
    });
  });

  it("reports an apply failure in the status and throws so the queue backs off", async () => {
    const { writer, reconciler } = setup([storedPolicy({})]);
    writer.failApply = true;
    await expect(reconciler.reconcile("shop/booking-api")).rejects.toMatchObject({
      code: "APICACHE_ERR_OPERATOR_APPLY_FAILED",
    });
    expect(writer.statuses[0]?.conditions?.find((c) => c.type === "Ready")).toMatchObject({
      status: "False",
      reason: "ApplyFailed",
    });
  });

  it("does nothing for a deleted policy", async () => {
    const { writer, reconciler } = setup([]);
    await reconciler.reconcile("shop/gone");
    expect([writer.applied, writer.statuses, writer.events, writer.created]).toEqual([[], [], [], []]);
  });

  describe("the admin token Secret", () => {
    it("is not created before a pod runs the sidecar: nothing would read it", async () => {
      const { writer, reconciler } = setup([storedPolicy({})], [bookingPod()]);
      await reconciler.reconcile("shop/booking-api");
      expect(writer.created).toEqual([]);
    });

    it("creates it once with the first pod that runs the sidecar, owned by the policy, with a token under the key the sidecar reads", async () => {
      const pods: V1Pod[] = [];
      const { writer, reconciler, store } = setup([storedPolicy({})], pods);
      await reconciler.reconcile("shop/booking-api");
      expect(writer.created).toEqual([]);
      pods.push(injectedBookingPod("sha256:any"));
      store.policies = [withStatus(store.policies[0] as StoredPolicy, writer)];
      await reconciler.reconcile("shop/booking-api");
      expect(writer.created).toEqual([
        {
          apiVersion: "v1",
          kind: "Secret",
          type: "Opaque",
          metadata: expect.objectContaining({
            name: "apicache-booking-api-admin",
            namespace: "shop",
            labels: expect.objectContaining({ "apicache.io/policy": "booking-api" }),
            ownerReferences: [
              expect.objectContaining({ kind: "CachePolicy", name: "booking-api", controller: true }),
            ],
          }),
          stringData: { token: "token-1" },
        },
      ]);
      store.policies = [withStatus(store.policies[0] as StoredPolicy, writer)];
      await reconciler.reconcile("shop/booking-api");
      expect(writer.created).toHaveLength(1);
    });

    it("never replaces an existing one (its token is in use), and creates a deleted one again when the rotation annotation changes, not at a resync", async () => {
      const { writer, reconciler, store } = setup([storedPolicy({})], [injectedBookingPod("sha256:any")]);
      writer.existing.add("Secret/apicache-booking-api-admin");
      await reconciler.reconcile("shop/booking-api");
      expect(writer.created).toHaveLength(1);
      expect(writer.existing.has("Secret/apicache-booking-api-admin")).toBe(true);
      writer.existing.delete("Secret/apicache-booking-api-admin"); // someone deleted it to rotate the token
      await reconciler.reconcile("shop/booking-api"); // a resync: no write
      expect(writer.created).toHaveLength(1);
      const policy = storedPolicy({});
      const annotations = { "apicache.io/admin-token-rotation": "2026-12-06" };
      store.policies = [{ ...policy, metadata: { ...policy.metadata, annotations } }];
      await reconciler.reconcile("shop/booking-api");
      expect(writer.created.at(-1)).toMatchObject({ stringData: { token: "token-2" } });
    });

    it("is created before the Role and RoleBinding, so a name conflict there does not withhold the token", async () => {
      const owned = anotherPolicys("RoleBinding");
      const { writer, reconciler } = setup([storedPolicy({})], [injectedBookingPod("sha256:any")], owned);
      await expect(reconciler.reconcile("shop/booking-api")).rejects.toMatchObject({
        code: "APICACHE_ERR_OPERATOR_NAME_TAKEN",
      });
      expect(writer.created.map((o) => o.kind)).toEqual(["ConfigMap", "Secret", "Role"]);
    });

    it("when its create is refused and the Role's name is taken, the status says NameTaken and names the refused Secret", async () => {
      const owned = anotherPolicys("Role");
      const { writer, reconciler } = setup([storedPolicy({})], [injectedBookingPod("sha256:any")], owned);
      refuseSecrets(writer);
      await expect(reconciler.reconcile("shop/booking-api")).rejects.toMatchObject({
        code: "APICACHE_ERR_OPERATOR_NAME_TAKEN",
      });
      const ready = writer.statuses.at(-1)?.conditions?.find((c) => c.type === "Ready");
      expect(ready).toMatchObject({ reason: "NameTaken" });
      expect(ready?.message).toContain("The admin token Secret was refused too: exceeded quota");
    });

    it("when its create is refused (a quota), the Role and RoleBinding are still written, and the status names the configuration the ConfigMap holds", async () => {
      const { writer, reconciler } = setup([storedPolicy({})], [injectedBookingPod("sha256:any")]);
      refuseSecrets(writer);
      await expect(reconciler.reconcile("shop/booking-api")).rejects.toMatchObject({
        code: "APICACHE_ERR_OPERATOR_APPLY_FAILED",
      });
      expect(writer.applied.map((o) => o.kind)).toEqual(["ConfigMap", "Role", "RoleBinding"]);
      const status = writer.statuses.at(-1);
      expect(status?.configHash).toMatch(/^sha256:/);
      const ready = status?.conditions?.find((c) => c.type === "Ready");
      expect(ready).toMatchObject({ reason: "ApplyFailed" });
      expect(ready?.message).toContain("exceeded quota");
      expect(ready?.message).toContain(
        `Configuration ${status?.configHash} is in ConfigMap apicache-booking-api`,
      );
      expect(ready?.message).not.toContain("keep the last valid configuration");
    });

    it("is not created for an invalid policy", async () => {
      const bad = storedPolicy({ spec: { routes: [{ name: "r", path: "/a/:id", tags: ["u:{nope}"] }] } });
      const { writer, reconciler } = setup([bad], [injectedBookingPod("sha256:any")]);
      await reconciler.reconcile("shop/booking-api");
      expect(writer.created).toEqual([]);
    });
  });

  describe("the objects it owns, against its informers' cache", () => {
    /** The cache after the API server stored what was written (listed objects carry no kind). */
    const storeWritten = (writer: FakeWriter, owned: Map<string, KubernetesObject>) => {
      for (const object of [...writer.created, ...writer.applied]) {
        if (object.kind === "Secret") continue;
        const { kind: _kind, ...stored } = object as AppliedObject & Record<string, unknown>;
        owned.set(`${object.kind}/${object.metadata.namespace}/${object.metadata.name}`, {
          ...stored,
          metadata: { ...object.metadata, uid: "server-uid", resourceVersion: "5" },
        } as KubernetesObject);
      }
    };

    it("creates what it does not have yet, then writes nothing again while the cache holds it as desired (a resync)", async () => {
      const owned = new Map<string, KubernetesObject>();
      const pods = [injectedBookingPod("sha256:any")];
      const { writer, reconciler, store } = setup([storedPolicy({})], pods, owned);
      await reconciler.reconcile("shop/booking-api");
      expect(writer.created.map((o) => o.kind)).toEqual(["ConfigMap", "Secret", "Role", "RoleBinding"]);
      expect(writer.applied).toEqual([]);
      storeWritten(writer, owned);
      store.policies = [withStatus(store.policies[0] as StoredPolicy, writer)];
      const writes = () =>
        writer.created.length + writer.applied.length + writer.statuses.length + writer.events.length;
      const before = writes();
      for (const _ of [1, 2, 3]) {
        reconciler.invalidate({
          kind: "ConfigMap",
          metadata: { namespace: "shop", name: "apicache-booking-api" },
        });
        await reconciler.reconcile("shop/booking-api");
      }
      expect(writes()).toBe(before);
    });

    it('empties a binding that grants someone once no pod runs the sidecar (scaled to zero, or left by a version that bound "default")', async () => {
      const owned = new Map<string, KubernetesObject>();
      const pods = [injectedBookingPod("sha256:any")];
      const { writer, reconciler, store } = setup([storedPolicy({})], pods, owned);
      await reconciler.reconcile("shop/booking-api");
      storeWritten(writer, owned);
      store.policies = [withStatus(store.policies[0] as StoredPolicy, writer)];
      pods.length = 0;
      reconciler.invalidate({
        kind: "RoleBinding",
        metadata: { namespace: "shop", name: "apicache-booking-api" },
      });
      await reconciler.reconcile("shop/booking-api");
      expect(writer.applied.map((o) => o.kind)).toEqual(["RoleBinding"]);
      expect(writer.applied[0]).toMatchObject({ subjects: [] });
      // The API server stores the empty binding without `subjects`: once the cache shows it, nothing
      // more is written.
      storeWritten(writer, owned);
      const key = "RoleBinding/shop/apicache-booking-api";
      const { subjects: _none, ...stored } = owned.get(key) as KubernetesObject & { subjects?: unknown };
      owned.set(key, stored);
      reconciler.invalidate({
        kind: "RoleBinding",
        metadata: { namespace: "shop", name: "apicache-booking-api" },
      });
      await reconciler.reconcile("shop/booking-api");
      expect(writer.applied).toHaveLength(1);
    });

    it("leaves a labelled binding of another policy alone while no pod runs the sidecar", async () => {
      const foreign = {
        metadata: {
          name: "apicache-booking-api",
          namespace: "shop",
          ownerReferences: [{ uid: "older-policy" }],
        },
        subjects: [{ kind: "ServiceAccount", name: "default", namespace: "shop" }],
      } as unknown as KubernetesObject;
      const owned = new Map<string, KubernetesObject>([["RoleBinding/shop/apicache-booking-api", foreign]]);
      const { writer, reconciler } = setup([storedPolicy({})], [], owned);
      await reconciler.reconcile("shop/booking-api");
      expect(writer.applied).toEqual([]);
      expect(writer.statuses.at(-1)?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    });

    it("counts only pods running this policy's sidecar: a pod injected for another policy is granted nothing", async () => {
      const owned = new Map<string, KubernetesObject>();
      const pods = [injectedBookingPod("sha256:any", { serviceAccountName: "other" }, "other-policy")];
      const { writer, reconciler } = setup([storedPolicy({})], pods, owned);
      await reconciler.reconcile("shop/booking-api");
      expect(writer.created.map((o) => o.kind)).toEqual(["ConfigMap"]);
    });

    it("applies when the cached object drifted from what it should be", async () => {
      const owned = new Map<string, KubernetesObject>();
      const { writer, reconciler } = setup([storedPolicy({})], [bookingPod()], owned);
      await reconciler.reconcile("shop/booking-api");
      storeWritten(writer, owned);
      const key = "ConfigMap/shop/apicache-booking-api";
      owned.set(key, { ...owned.get(key), data: { "policy.yaml": "edited by hand" } } as KubernetesObject);
      reconciler.invalidate({
        kind: "ConfigMap",
        metadata: { namespace: "shop", name: "apicache-booking-api" },
      });
      await reconciler.reconcile("shop/booking-api");
      expect(writer.applied.map((o) => o.kind)).toEqual(["ConfigMap"]);
    });

    it("never takes over an object of the same name that is not its own: NameTaken, nothing written to it", async () => {
      const owned = new Map<string, KubernetesObject>();
      const { writer, reconciler } = setup([storedPolicy({})], [bookingPod()], owned);
      writer.existing.add("ConfigMap/apicache-booking-api"); // a user's ConfigMap: not labelled, so not in the cache
      await expect(reconciler.reconcile("shop/booking-api")).rejects.toMatchObject({
        code: "APICACHE_ERR_OPERATOR_NAME_TAKEN",
      });
      expect(writer.applied).toEqual([]);
      expect(writer.created.map((o) => o.kind)).toEqual(["ConfigMap"]);
      const ready = writer.statuses.at(-1)?.conditions?.find((c) => c.type === "Ready");
      expect(ready).toMatchObject({ status: "False", reason: "NameTaken" });
      expect(ready?.message).toContain(
        "ConfigMap shop/apicache-booking-api exists and is not managed by apicache",
      );
    });

    it("treats a labelled object owned by another policy (another uid) as not its own", async () => {
      const owned = new Map<string, KubernetesObject>([
        [
          "ConfigMap/shop/apicache-booking-api",
          {
            metadata: {
              name: "apicache-booking-api",
              namespace: "shop",
              ownerReferences: [{ uid: "older-policy" }],
            },
          } as KubernetesObject,
        ],
      ]);
      const { writer, reconciler } = setup([storedPolicy({})], [bookingPod()], owned);
      await expect(reconciler.reconcile("shop/booking-api")).rejects.toMatchObject({
        code: "APICACHE_ERR_OPERATOR_NAME_TAKEN",
      });
      expect(writer.applied).toEqual([]);
      expect(writer.created).toEqual([]);
    });
  });
});
