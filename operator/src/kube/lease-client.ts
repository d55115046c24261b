import {
  ApiException,
  type CoordinationV1Api,
  type V1Lease,
  V1MicroTime,
  type V1OwnerReference,
} from "@kubernetes/client-node";
import {
  type LeaseClient,
  LeaseConflictError,
  type LeaseRecord,
  LeaseRefusedError,
} from "../leader/lease.js";
import { aborting } from "./abort.js";
import { InstallationGoneError, type ReleaseOwner } from "./release-owner.js";

/**
 * The elector's Lease reads and writes against coordination.k8s.io/v1. A create names the
 * installation's owner looked up fresh, and is refused once it is gone (release-owner.ts). An update
 * (PUT, the `update` verb the chart grants) carries the resourceVersion and the uid it read: Leases
 * allow create-on-update, so a PUT of a Lease the garbage collector has just deleted would create it
 * again; with the uid it is a 409 instead. It names the current owner, else keeps the owners read.
 */
export class ApiLeaseClient implements LeaseClient {
  constructor(
    private readonly api: CoordinationV1Api,
    private readonly namespace: string,
    private readonly name: string,
    /** The installation's owner object: deleting it deletes the Lease. */
    private readonly owner?: ReleaseOwner,
  ) {}

  async get(signal?: AbortSignal): Promise<LeaseRecord | undefined> {
    // Every round: a replica that started before the configuration existed learns of it.
    await this.owner?.seeUnlessFound();
    signal?.throwIfAborted();
    try {
      const params = { name: this.name, namespace: this.namespace };
      const lease = await this.api.readNamespacedLease(params, aborting(signal));
      this.owner?.learn(lease.metadata?.ownerReferences);
      return toRecord(lease);
    } catch (error) {
      if (!(error instanceof ApiException && error.code === 404)) throw error;
    }
    await this.ownerForCreate();
    return undefined;
  }

  async create(record: LeaseRecord, signal?: AbortSignal): Promise<LeaseRecord> {
    const owner = await this.ownerForCreate();
    signal?.throwIfAborted();
    const lease = toLease(record, owner ? [owner] : undefined);
    const body = { ...lease, metadata: { ...lease.metadata, name: this.name, namespace: this.namespace } };
    return this.write(() =>
      this.api.createNamespacedLease({ namespace: this.namespace, body }, aborting(signal)),
    );
  }

  async update(record: LeaseRecord, signal?: AbortSignal): Promise<LeaseRecord> {
    if (record.uid === undefined)
      throw new LeaseConflictError("no uid read: an update could create the lease");
    const owner = await this.owner?.forUpdate();
    signal?.throwIfAborted();
    const lease = toLease(record, owner ? [owner] : (record.owners as V1OwnerReference[] | undefined));
    const metadata = { ...lease.metadata, name: this.name, namespace: this.namespace, uid: record.uid };
    const body = { ...lease, metadata };
    return this.write(() =>
      this.api.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body }, aborting(signal)),
    );
  }

  private async ownerForCreate(): Promise<V1OwnerReference | undefined> {
    try {
      return await this.owner?.forCreate(`Lease ${this.namespace}/${this.name}`);
    } catch (error) {
      if (error instanceof InstallationGoneError)
        throw new LeaseRefusedError(error.message, { cause: error });
      throw error;
    }
  }

  private async write(call: () => Promise<V1Lease>): Promise<LeaseRecord> {
    try {
      return toRecord(await call());
    } catch (error) {
      // 409: changed or deleted since it was read (the uid precondition), or created meanwhile.
      if (error instanceof ApiException && (error.code === 409 || error.code === 404))
        throw new LeaseConflictError();
      throw error;
    }
  }
}

/** The Lease fields a write sets; metadata carries the resourceVersion read and the owners, if any. */
function toLease(record: LeaseRecord, owners: V1OwnerReference[] | undefined): V1Lease {
  const micro = (date: Date | undefined) => (date ? new V1MicroTime(date.getTime()) : undefined);
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: {
      ...(record.resourceVersion ? { resourceVersion: record.resourceVersion } : {}),
      ...(owners?.length ? { ownerReferences: owners } : {}),
    },
    spec: {
      holderIdentity: record.holderIdentity,
      leaseDurationSeconds: record.leaseDurationSeconds,
      leaseTransitions: record.leaseTransitions,
      ...(record.acquireTime ? { acquireTime: micro(record.acquireTime) } : {}),
      ...(record.renewTime ? { renewTime: micro(record.renewTime) } : {}),
    },
  };
}

function toRecord(lease: V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  const date = (value: unknown) =>
    value === undefined || value === null ? undefined : new Date(value as string);
  const acquireTime = date(spec.acquireTime);
  const renewTime = date(spec.renewTime);
  return {
    holderIdentity: spec.holderIdentity ?? "",
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 15,
    leaseTransitions: spec.leaseTransitions ?? 0,
    ...(acquireTime ? { acquireTime } : {}),
    ...(renewTime ? { renewTime } : {}),
    ...(lease.metadata?.resourceVersion ? { resourceVersion: lease.metadata.resourceVersion } : {}),
    ...(lease.metadata?.uid ? { uid: lease.metadata.uid } : {}),
    ...(lease.metadata?.ownerReferences?.length ? { owners: lease.metadata.ownerReferences } : {}),
  };
}
