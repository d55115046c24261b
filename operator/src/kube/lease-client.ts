import { ApiException, type CoordinationV1Api, type V1Lease, V1MicroTime } from "@kubernetes/client-node";
import { type LeaseClient, LeaseConflictError, type LeaseRecord } from "../leader/leader-elector.js";
import type { OwnerLookup } from "./release-owner.js";

/** The elector's Lease reads and writes against coordination.k8s.io/v1. */
export class ApiLeaseClient implements LeaseClient {
  constructor(
    private readonly api: CoordinationV1Api,
    private readonly namespace: string,
    private readonly name: string,
    /** The installation's owner object (release-owner.ts): deleting it deletes the Lease. */
    private readonly owner?: OwnerLookup,
  ) {}

  async get(): Promise<LeaseRecord | undefined> {
    try {
      return toRecord(await this.api.readNamespacedLease({ name: this.name, namespace: this.namespace }));
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return undefined;
      throw error;
    }
  }

  async create(record: LeaseRecord): Promise<LeaseRecord> {
    const body = await this.toLease(record);
    return this.write(() => this.api.createNamespacedLease({ namespace: this.namespace, body }));
  }

  async update(record: LeaseRecord): Promise<LeaseRecord> {
    const body = await this.toLease(record);
    return this.write(() =>
      this.api.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body }),
    );
  }

  private async write(call: () => Promise<V1Lease>): Promise<LeaseRecord> {
    try {
      return toRecord(await call());
    } catch (error) {
      if (error instanceof ApiException && error.code === 409) throw new LeaseConflictError();
      throw error;
    }
  }

  private async toLease(record: LeaseRecord): Promise<V1Lease> {
    const micro = (date: Date | undefined) => (date ? new V1MicroTime(date.getTime()) : undefined);
    // A failed owner lookup must not cost the lease: write it without one, the next write adds it.
    const owner = await this.owner?.().catch(() => undefined);
    return {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: {
        name: this.name,
        namespace: this.namespace,
        ...(record.resourceVersion ? { resourceVersion: record.resourceVersion } : {}),
        ...(owner ? { ownerReferences: [owner] } : {}),
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
  };
}
