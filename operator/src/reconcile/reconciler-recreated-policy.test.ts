/**
 * A CachePolicy deleted and re-created under its name (found by review).
 */
import type { CachePolicyStatus } from "@apicache/crds";
import type { KubernetesObject } from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { injectedBookingPod, storedPolicy } from "../../test/fixtures.js";
import { FakeClock } from "../clock.js";
import { PolicyIndex } from "../policy/policy-index.js";
import type { StoredPolicy } from "../policy/types.js";
import type { PolicyEvent } from "./events.js";
import { type AppliedObject, type ClusterWriter, Reconciler } from "./reconciler.js";

/** A cluster in memory: objects by kind/namespace/name, as the API server would hold them. */
class Cluster implements ClusterWriter {
  objects = new Map<string, AppliedObject>();
  created: string[] = [];
  events: PolicyEvent[] = [];
  private id = (o: AppliedObject) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;
  async apply(object: AppliedObject) {
    this.objects.set(this.id(object), object);
  }
  async create(object: AppliedObject) {
    this.created.push(this.id(object));
    if (this.objects.has(this.id(object))) return "exists" as const;
    this.objects.set(this.id(object), object);
    return "created" as const;
  }
  async patchStatus(_ns: string, _name: string, _status: CachePolicyStatus) {
    return "rv";
  }
  async event(_policy: StoredPolicy, event: PolicyEvent) {
    this.events.push(event);
  }
  /** The garbage collector: deletes every object whose owner reference names `uid`. */
  collect(uid: string) {
    for (const [id, object] of this.objects) {
      const owners = (object as KubernetesObject).metadata?.ownerReferences ?? [];
      if (owners.some((o) => o.uid === uid)) this.objects.delete(id);
    }
  }
}

describe("a CachePolicy deleted and re-created with the same name (same term)", () => {
  it("gets a new admin token Secret (the old one was garbage-collected with the old policy)", async () => {
    const cluster = new Cluster();
    let policies: StoredPolicy[] = [storedPolicy({})];
    const reconciler = new Reconciler({
      getPolicy: (ns, name) => policies.find((p) => p.metadata.namespace === ns && p.metadata.name === name),
      index: new PolicyIndex(() => policies),
      pods: () => [injectedBookingPod("sha256:any")], // it runs the sidecar: the Secret is written
      // The owned informers: what the "cluster" holds now (ConfigMap/Role/RoleBinding only).
      owned: (kind, ns, name) => cluster.objects.get(`${kind}/${ns}/${name}`) as KubernetesObject | undefined,
      writer: cluster,
      clock: new FakeClock(Date.parse("2025-05-01T00:00:00Z")),
      log: pino({ level: "silent" }),
    });
    await reconciler.reconcile("shop/booking-api");
    expect(cluster.objects.has("Secret/shop/apicache-booking-api-admin")).toBe(true);

    // kubectl delete cachepolicy booking-api: the GC removes what it owned.
    const old = policies[0] as StoredPolicy;
    policies = [];
    cluster.collect(old.metadata.uid as string);
    await reconciler.reconcile("shop/booking-api");
    // kubectl apply -f the same manifest: same name and spec, a new uid.
    const again = storedPolicy({});
    policies = [{ ...again, metadata: { ...again.metadata, uid: "uid-booking-api-2" } }];
    await reconciler.reconcile("shop/booking-api");

    expect(cluster.objects.has("ConfigMap/shop/apicache-booking-api")).toBe(true); // re-created
    // The admin token Secret is not: its memo key is kind/namespace/name + configHash/rotation, no uid.
    expect(cluster.objects.has("Secret/shop/apicache-booking-api-admin")).toBe(true);
  });
});
