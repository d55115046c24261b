import { ApiException, type CoordinationV1Api, type V1Lease, V1MicroTime } from "@kubernetes/client-node";
import { type LeaseClient, LeaseConflictError, type LeaseRecord } from "../leader/leader-elector.js";

/** The elector's Lease reads and writes against coordination.k8s.io/v1. */
export class ApiLeaseClient implements LeaseClient {
  constructor(
    private readonly api: CoordinationV1Api,
    private readonly namespace: string,
    private readonly name: string,
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
    return this.write(() =>
      this.api.createNamespacedLease({ namespace: this.namespace, body: this.toLease(record) }),
    );
  }

  async update(record: LeaseRecord): Promise<LeaseRecord> {
    return this.write(() =>
      this.api.replaceNamespacedLease({
        name: this.name,
        namespace: this.namespace,
        body: this.toLease(record),
      }),
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

  private toLease(record: LeaseRecord): V1Lease {
    const micro = (date: Date | undefined) => (date ? new V1MicroTime(date.getTime()) : undefined);
    return {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: {
        name: this.name,
        namespace: this.namespace,
        ...(record.resourceVersion ? { resourceVersion: record.resourceVersion } : {}),
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
