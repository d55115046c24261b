/** The Lease as the elector sees it: the record, the client port it is read and written through, and its errors. */

export interface LeaseRecord {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime?: Date;
  readonly renewTime?: Date;
  readonly leaseTransitions: number;
  /** Set by the server; required on update. */
  readonly resourceVersion?: string;
  /** Set by the server. An update names it: a lease deleted meanwhile is a conflict, never re-created. */
  readonly uid?: string;
  /** Set by the lease client (the installation's owner, ADR 0007); carried from a read to the next write. */
  readonly owners?: readonly unknown[];
}

export class LeaseConflictError extends Error {
  constructor(message = "the lease changed since it was read") {
    super(message);
    this.name = "LeaseConflictError";
  }
}

/** The lease is missing and may not be created now (its owner is gone); nobody holds it. */
export class LeaseRefusedError extends Error {
  constructor(message = "the lease may not be created now", options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LeaseRefusedError";
  }
}

/** A lease request did not finish within the time left before renewDeadline. */
export class LeaseTimeoutError extends Error {
  constructor(ms: number) {
    super(`the lease request did not finish within ${ms} ms (renew deadline)`);
    this.name = "LeaseTimeoutError";
  }
}

export interface LeaseClient {
  /**
   * Undefined when missing; throws LeaseRefusedError when missing and it may not be created, and
   * the signal's reason once the signal is aborted.
   */
  get(signal?: AbortSignal): Promise<LeaseRecord | undefined>;
  /**
   * Throws LeaseConflictError when it already exists, LeaseRefusedError when it may not be created,
   * and the signal's reason, without writing, once the signal is aborted.
   */
  create(record: LeaseRecord, signal?: AbortSignal): Promise<LeaseRecord>;
  /**
   * Never creates: throws LeaseConflictError when record.resourceVersion is stale or the lease is
   * gone, and the signal's reason, without writing, once the signal is aborted.
   */
  update(record: LeaseRecord, signal?: AbortSignal): Promise<LeaseRecord>;
}
