import type { Clock, Timer } from "../clock.js";
import { type LeaseClient, type LeaseRecord, LeaseRefusedError, LeaseTimeoutError } from "./lease.js";

/** Leading could not start: the start step threw or did not finish within startDeadlineMs. */
export class LeaderStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LeaderStartError";
  }
}

export interface LeaderElectionOptions {
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly clock: Clock;
  readonly client: LeaseClient;
  /**
   * Starts what the leader does. May return a promise: when it rejects, or has not settled within
   * startDeadlineMs, the elector gives the lease up (stopLeading, release) and tries again later.
   * The signal aborts when this term of leadership ends.
   */
  readonly onStartedLeading: (term: AbortSignal) => void | Promise<void>;
  /**
   * Stops what onStartedLeading started (waiting for work in flight); called once per term, at
   * once when leadership is lost, and awaited before the lease is released.
   */
  readonly stopLeading?: () => void | Promise<void>;
  /** Called once when leadership is lost, after stopLeading settled (the operator exits non-zero). */
  readonly onStoppedLeading: () => void;
  /** Called when the start step failed; the lease is given up and acquired again later. */
  readonly onStartFailed?: (error: LeaderStartError) => void;
  /** How long the start step may take; unbounded when absent. */
  readonly startDeadlineMs?: number;
  readonly onError?: (error: unknown) => void;
  readonly random?: () => number;
}

export type ElectorState = "follower" | "leader" | "stopped";

type Attempt = "held" | "not-held" | "refused";

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: acquire when the lease
 * is free or its holder has not renewed for leaseDuration (measured on OUR clock from when we last
 * saw the record change, so clock skew between nodes does not matter); renew every retryPeriod;
 * give up leadership when no renew succeeded for renewDeadline. Every write carries the
 * resourceVersion it read (optimistic concurrency): two candidates can never both win.
 * The lease client is passed in: tests use an in-memory one.
 *
 * Leadership ends cleanly (issue #13): every round's requests are bounded (a follower's by
 * renewDeadline, a leader's by what is left of it since its last renewal), so a hung renewal cannot
 * keep a leader acting past renewDeadline, before leaseDuration lets another replica acquire.
 * What leading started is stopped (stopLeading, awaited) before the lease is released. A leader whose
 * start step fails, or does not finish within startDeadlineMs, gives the lease up (stops, releases)
 * and tries again after retryPeriod.
 *
 * Two additions (ADR 0007): stop() waits for a round in flight, and no round writes once stopped;
 * and a lease that may not be created (its owner, the installation, is gone: LeaseRefusedError)
 * parks the election: the leader keeps leading (nobody can take the lease), a follower waits until
 * leaseDuration after the last refusal before it creates the lease, so the parked leader, which
 * retries every retryPeriod, gets it back first.
 */
export class LeaderElector {
  private stateValue: ElectorState = "follower";
  private observed: { key: string; at: number; record: LeaseRecord } | undefined;
  private lastRenew = 0;
  /** A follower presumes a parked leader until then (see the class comment). */
  private refusedUntil = 0;
  private timer: Timer | undefined;
  /** Fires renewDeadline after the last renewal: the leader stops acting even if a round hangs. */
  private deadline: Timer | undefined;
  private inFlight: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  /** The current term of leadership: aborted when it ends; `ended` memoizes stopLeading. */
  private term: { abort: AbortController; ended?: Promise<void> } | undefined;
  /** A start failure being handled: no round runs meanwhile. */
  private givingUp: Promise<void> | undefined;

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
    if (this.stateValue === "stopped" || this.givingUp) return;
    const round = this.round();
    this.inFlight = round;
    try {
      await round;
    } finally {
      if (this.inFlight === round) this.inFlight = undefined;
    }
  }

  /**
   * A leader first stops what leading started (work in flight finishes) while it keeps renewing, as
   * controller-runtime does: no other replica may lead while this one still acts. Then the loop
   * stops, waiting for a round in flight (it writes nothing more); if the lease is ours then, it is
   * released (empty holder) so another replica takes over at once. Losing the lease meanwhile aborts
   * the term at once, as always.
   */
  async stop(release = true): Promise<void> {
    if (this.stateValue === "leader") await this.endTerm(false);
    this.stateValue = "stopped";
    this.stopping.abort(new Error("the elector stopped"));
    this.timer?.cancel();
    this.deadline?.cancel();
    await this.inFlight?.catch(() => undefined);
    await this.givingUp;
    await this.endTerm(false); // when not leading above: a term being given up, or none
    if (release) await this.release();
  }

  /** Hands the lease over (empty holder) if we hold it, bounded by renewDeadline. */
  private async release(): Promise<void> {
    const record = this.observed?.record;
    if (record?.holderIdentity !== this.options.identity) return;
    const released = {
      ...record,
      holderIdentity: "",
      leaseDurationSeconds: 1,
      renewTime: new Date(this.options.clock.now()),
    };
    await this.bounded(this.options.renewDeadlineMs, undefined, (signal) =>
      this.options.client.update(released, signal),
    ).then(
      (written) => this.observe(written, this.options.clock.now()),
      (error: unknown) => this.options.onError?.(error),
    );
  }

  /**
   * Runs stopLeading once for the current term (none when not leading). The term's signal aborts
   * first when leadership is lost or could not start; after stopLeading on a graceful stop, so work in
   * flight finishes while the lease is still ours.
   */
  private endTerm(abortFirst = true): Promise<void> {
    const term = this.term;
    if (!term) return Promise.resolve();
    const end = () => term.abort.abort(new Error("the term of leadership ended"));
    if (abortFirst) end();
    term.ended ??= (async () => this.options.stopLeading?.())()
      .catch((error: unknown) => this.options.onError?.(error))
      .finally(end);
    return term.ended;
  }

  /**
   * Runs `call` with a signal aborted after `ms` (or with `outer`), and settles by then even when
   * the call ignores its signal.
   */
  private bounded<T>(
    ms: number,
    outer: AbortSignal | undefined,
    call: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const timeout = new AbortController();
    const timer = this.options.clock.setTimeout(() => timeout.abort(new LeaseTimeoutError(ms)), ms);
    const signal = outer ? AbortSignal.any([outer, timeout.signal]) : timeout.signal;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      call(signal).then(resolve, reject);
    }).finally(() => timer.cancel());
  }

  private async round(): Promise<void> {
    const now0 = this.options.clock.now();
    const budget =
      this.stateValue === "leader"
        ? Math.max(0, this.lastRenew + this.options.renewDeadlineMs - now0)
        : this.options.renewDeadlineMs;
    const attempt = await this.bounded(budget, this.stopping.signal, (signal) =>
      this.tryAcquireOrRenew(signal),
    ).catch((error: unknown): Attempt => {
      if (error instanceof LeaseRefusedError) return "refused";
      if (!this.stopping.signal.aborted) this.options.onError?.(error);
      return "not-held";
    });
    if (this.stateValue === "stopped" || this.givingUp) return;
    const now = this.options.clock.now();
    if (attempt === "refused") {
      // Nobody can hold the lease now: the leader stays, a follower presumes it alive.
      if (this.stateValue === "leader") this.renewed(now0);
      else this.refusedUntil = now + this.options.leaseDurationMs;
      return;
    }
    const ok = attempt === "held";
    if (this.stateValue === "follower" && ok) {
      this.stateValue = "leader";
      this.renewed(now0);
      this.startLeading();
    } else if (this.stateValue === "leader") {
      const holder = this.observed?.record.holderIdentity ?? "";
      if (ok) this.renewed(now0);
      else if (holder !== "" && holder !== this.options.identity) this.lose();
      else if (now - this.lastRenew >= this.options.renewDeadlineMs) this.lose();
    }
  }

  /**
   * A renewal (or acquisition) sent at `sentAt` succeeded. The renew deadline counts from when the
   * request was SENT, not from when its answer came: the server may have stored it at any moment in
   * between, and a follower counts the lease from then — a slow answer must not lengthen this
   * replica's reign past another's acquisition.
   */
  private renewed(sentAt: number): void {
    this.lastRenew = sentAt;
    this.deadline?.cancel();
    const left = sentAt + this.options.renewDeadlineMs - this.options.clock.now();
    this.deadline = this.options.clock.setTimeout(() => {
      if (this.stateValue === "leader") this.lose();
    }, left);
  }

  /** Leadership is lost: stop acting at once (a round in flight writes nothing more). */
  private lose(): void {
    this.stateValue = "stopped";
    this.timer?.cancel();
    this.deadline?.cancel();
    this.stopping.abort(new Error("leadership lost"));
    void this.endTerm().then(() => this.options.onStoppedLeading());
  }

  /** Runs the start step for a new term; a failure or a timeout gives the lease up. */
  private startLeading(): void {
    const term = { abort: new AbortController() };
    this.term = term;
    const { startDeadlineMs, clock } = this.options;
    let timer: Timer | undefined;
    const late = new Promise<never>((_, reject) => {
      if (startDeadlineMs === undefined) return;
      timer = clock.setTimeout(
        () => reject(new LeaderStartError(`leading did not start within ${startDeadlineMs} ms`)),
        startDeadlineMs,
      );
    });
    const started = (async () => this.options.onStartedLeading(term.abort.signal))();
    Promise.race([started, late]).then(
      () => timer?.cancel(),
      (error: unknown) => {
        timer?.cancel();
        if (this.term !== term || this.stateValue !== "leader" || term.abort.signal.aborted) return;
        const failure =
          error instanceof LeaderStartError
            ? error
            : new LeaderStartError(`leading could not start: ${(error as Error)?.message ?? error}`, {
                cause: error,
              });
        this.givingUp = this.giveUp(failure).finally(() => (this.givingUp = undefined));
      },
    );
  }

  /** Stops what leading started, then releases the lease; the loop acquires again later. */
  private async giveUp(error: LeaderStartError): Promise<void> {
    this.stateValue = "follower";
    this.deadline?.cancel();
    this.options.onStartFailed?.(error);
    await this.inFlight?.catch(() => undefined);
    await this.endTerm();
    this.term = undefined;
    if (this.stateValue === "follower") await this.release();
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

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<Attempt> {
    const { identity, clock, client } = this.options;
    const now = clock.now();
    const desired = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.options.leaseDurationMs / 1000),
      renewTime: new Date(now),
    };
    const current = await client.get(signal);
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
