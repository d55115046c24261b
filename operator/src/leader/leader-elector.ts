import type { Clock, Timer } from "../controller/clock.js";

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: acquire when the lease
 * is free or its holder has not renewed for leaseDuration (measured on OUR clock from when we last
 * saw the record change, so clock skew between nodes does not matter); renew every retryPeriod;
 * give up leadership when no renew succeeded for renewDeadline. Every write carries the
 * resourceVersion it read (optimistic concurrency): two candidates can never both win.
 * The lease client is passed in: tests use an in-memory one.
 *
 * Two additions (ADR 0007): stop() waits for a round in flight, and no round writes once stopped;
 * and a lease that may not be created (its owner, the installation, is gone: LeaseRefusedError)
 * parks the election: the leader keeps leading (nobody can take the lease), a follower waits until
 * leaseDuration after the last refusal before it creates the lease, so the parked leader, which
 * retries every retryPeriod, gets it back first.
 */
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

export interface LeaseClient {
  /** Undefined when missing; throws LeaseRefusedError when missing and it may not be created. */
  get(): Promise<LeaseRecord | undefined>;
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

type Attempt = "held" | "not-held" | "refused";

export class LeaderElector {
  private stateValue: ElectorState = "follower";
  private observed: { key: string; at: number; record: LeaseRecord } | undefined;
  private lastRenew = 0;
  /** A follower presumes a parked leader until then (see the class comment). */
  private refusedUntil = 0;
  private timer: Timer | undefined;
  private inFlight: Promise<void> | undefined;
  private readonly stopping = new AbortController();

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
    const round = this.round();
    this.inFlight = round;
    try {
      await round;
    } finally {
      if (this.inFlight === round) this.inFlight = undefined;
    }
  }

  /**
   * Stops the loop, waiting for a round in flight (it writes nothing more); if the lease is ours
   * then, it is released (empty holder) so another replica takes over at once.
   */
  async stop(release = true): Promise<void> {
    this.stateValue = "stopped";
    this.stopping.abort(new Error("the elector stopped"));
    this.timer?.cancel();
    await this.inFlight?.catch(() => undefined);
    const record = this.observed?.record;
    if (!release || record?.holderIdentity !== this.options.identity) return;
    await this.options.client
      .update({
        ...record,
        holderIdentity: "",
        leaseDurationSeconds: 1,
        renewTime: new Date(this.options.clock.now()),
      })
      .catch((error: unknown) => this.options.onError?.(error));
  }

  private async round(): Promise<void> {
    const attempt = await this.tryAcquireOrRenew().catch((error: unknown): Attempt => {
      if (error instanceof LeaseRefusedError) return "refused";
      if (!this.stopping.signal.aborted) this.options.onError?.(error);
      return "not-held";
    });
    if (this.stateValue === "stopped") return;
    const now = this.options.clock.now();
    if (attempt === "refused") {
      // Nobody can hold the lease now: the leader stays, a follower presumes it alive.
      if (this.stateValue === "leader") this.lastRenew = now;
      else this.refusedUntil = now + this.options.leaseDurationMs;
      return;
    }
    const ok = attempt === "held";
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

  private async tryAcquireOrRenew(): Promise<Attempt> {
    const { identity, clock, client } = this.options;
    const signal = this.stopping.signal;
    const now = clock.now();
    const desired = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.options.leaseDurationMs / 1000),
      renewTime: new Date(now),
    };
    const current = await client.get();
    if (signal.aborted) return "not-held";
    if (!current) {
      if (this.stateValue !== "leader" && now < this.presumedHeldUntil()) return "not-held";
      const record = { ...desired, acquireTime: new Date(now), leaseTransitions: 0 };
      this.observe(await client.create(record, signal), now);
      return "held";
    }
    this.observe(current, now);
    const held = current.holderIdentity !== "" && current.holderIdentity !== identity;
    const observedAt = this.observed?.at ?? now;
    if (held && now < observedAt + current.leaseDurationSeconds * 1000) return "not-held";
    const ours = current.holderIdentity === identity;
    const next: LeaseRecord = {
      ...current, // resourceVersion, uid, owners
      ...desired,
      acquireTime: ours ? (current.acquireTime ?? new Date(now)) : new Date(now),
      leaseTransitions: ours ? current.leaseTransitions : current.leaseTransitions + 1,
    };
    this.observe(await client.update(next, signal), now);
    return "held";
  }

  /**
   * Until when a follower leaves a missing lease alone: leaseDuration after it last saw another
   * holder renew (it may re-create a lease deleted under it), or after the last refusal.
   */
  private presumedHeldUntil(): number {
    const seen = this.observed;
    const holder = seen?.record.holderIdentity ?? "";
    const byRecord =
      seen && holder !== "" && holder !== this.options.identity
        ? seen.at + seen.record.leaseDurationSeconds * 1000
        : 0;
    return Math.max(byRecord, this.refusedUntil);
  }

  /** Remembers when the record last changed, on our clock. */
  private observe(record: LeaseRecord, now: number): void {
    const key = `${record.holderIdentity}|${record.renewTime?.getTime()}|${record.resourceVersion}`;
    if (this.observed?.key !== key) this.observed = { key, at: now, record };
    else this.observed = { ...this.observed, record };
  }
}
