import type { Clock, Timer } from "../controller/clock.js";

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: acquire when the lease
 * is free or its holder has not renewed for leaseDuration (measured on OUR clock from when we last
 * saw the record change, so clock skew between nodes does not matter); renew every retryPeriod;
 * give up leadership when no renew succeeded for renewDeadline. Every write carries the
 * resourceVersion it read (optimistic concurrency): two candidates can never both win.
 * The lease client is passed in: tests use an in-memory one.
 */
export interface LeaseRecord {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime?: Date;
  readonly renewTime?: Date;
  readonly leaseTransitions: number;
  /** Set by the server; required on update. */
  readonly resourceVersion?: string;
}

export class LeaseConflictError extends Error {
  constructor(message = "the lease changed since it was read") {
    super(message);
    this.name = "LeaseConflictError";
  }
}

export interface LeaseClient {
  get(): Promise<LeaseRecord | undefined>;
  /** Throws LeaseConflictError when it already exists. */
  create(record: LeaseRecord): Promise<LeaseRecord>;
  /** Throws LeaseConflictError when record.resourceVersion is stale. */
  update(record: LeaseRecord): Promise<LeaseRecord>;
}

export interface LeaderElectionOptions {
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly clock: Clock;
  readonly client: LeaseClient;
  readonly onStartedLeading: () => void;
  /** Called once when leadership is lost (the operator exits non-zero). */
  readonly onStoppedLeading: () => void;
  readonly onError?: (error: unknown) => void;
  readonly random?: () => number;
}

export type ElectorState = "follower" | "leader" | "stopped";

export class LeaderElector {
  private stateValue: ElectorState = "follower";
  private observed: { key: string; at: number; record: LeaseRecord } | undefined;
  private lastRenew = 0;
  private timer: Timer | undefined;

  constructor(private readonly options: LeaderElectionOptions) {}

  get state(): ElectorState {
    return this.stateValue;
  }

  get isLeader(): boolean {
    return this.stateValue === "leader";
  }

  /** Starts the acquire/renew loop. */
  start(): void {
    this.schedule(0);
  }

  /** One round: try to acquire (follower) or renew (leader). Public for tests. */
  async tick(): Promise<void> {
    if (this.stateValue === "stopped") return;
    const ok = await this.tryAcquireOrRenew().catch((error: unknown) => {
      this.options.onError?.(error);
      return false;
    });
    const now = this.options.clock.now();
    if (this.stateValue === "follower" && ok) {
      this.stateValue = "leader";
      this.lastRenew = now;
      this.options.onStartedLeading();
    } else if (this.stateValue === "leader") {
      const holder = this.observed?.record.holderIdentity ?? "";
      if (ok) this.lastRenew = now;
      else if (holder !== "" && holder !== this.options.identity) this.lose();
      else if (now - this.lastRenew >= this.options.renewDeadlineMs) this.lose();
    }
  }

  /** Stops the loop; a leader releases the lease (empty holder) so another replica takes over at once. */
  async stop(release = true): Promise<void> {
    const wasLeader = this.stateValue === "leader";
    this.stateValue = "stopped";
    this.timer?.cancel();
    if (!wasLeader || !release || !this.observed) return;
    const { record } = this.observed;
    await this.options.client
      .update({
        ...record,
        holderIdentity: "",
        leaseDurationSeconds: 1,
        renewTime: new Date(this.options.clock.now()),
      })
      .catch((error: unknown) => this.options.onError?.(error));
  }

  private lose(): void {
    this.stateValue = "stopped";
    this.timer?.cancel();
    this.options.onStoppedLeading();
  }

  private schedule(ms: number): void {
    this.timer = this.options.clock.setTimeout(async () => {
      await this.tick();
      if (this.stateValue !== "stopped") this.schedule(this.jittered());
    }, ms);
  }

  private jittered(): number {
    const random = this.options.random ?? Math.random;
    const base = this.options.retryPeriodMs;
    return this.stateValue === "leader" ? base : Math.round(base * (1 + 0.2 * random()));
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { identity, clock, client } = this.options;
    const now = clock.now();
    const desired = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.options.leaseDurationMs / 1000),
      renewTime: new Date(now),
    };
    const current = await client.get();
    if (!current) {
      const created = await client.create({ ...desired, acquireTime: new Date(now), leaseTransitions: 0 });
      this.observe(created, now);
      return true;
    }
    this.observe(current, now);
    const held = current.holderIdentity !== "" && current.holderIdentity !== identity;
    const observedAt = this.observed?.at ?? now;
    if (held && now < observedAt + current.leaseDurationSeconds * 1000) return false;
    const ours = current.holderIdentity === identity;
    const next: LeaseRecord = {
      ...desired,
      acquireTime: ours ? (current.acquireTime ?? new Date(now)) : new Date(now),
      leaseTransitions: ours ? current.leaseTransitions : current.leaseTransitions + 1,
      ...(current.resourceVersion === undefined ? {} : { resourceVersion: current.resourceVersion }),
    };
    const updated = await client.update(next);
    this.observe(updated, now);
    return true;
  }

  /** Remembers when the record last changed, on our clock. */
  private observe(record: LeaseRecord, now: number): void {
    const key = `${record.holderIdentity}|${record.renewTime?.getTime()}|${record.resourceVersion}`;
    if (this.observed?.key !== key) this.observed = { key, at: now, record };
    else this.observed = { ...this.observed, record };
  }
}
