import { PassMarks } from "./pass-marks.js";

/**
 * Request coalescing: at most one upstream fetch per key at a time. The first request for a key leads
 * (fetches); requests arriving meanwhile join and await the leader's promise — woken by its resolution,
 * never by polling. An invalidation detaches the flights it concerns, so requests that arrive after a
 * write start a fresh fetch instead of joining one that may carry pre-write data.
 *
 * A request reads the store before it looks for a flight. A flight can start *and end* while that read
 * is in progress — the read missed because the entry was not stored yet, and the flight is gone by the
 * time the request looks: it would lead a second fetch of the same key. The wider the read's window
 * (a busy or CPU-starved process, a slow store), the likelier. So a request `watch`es its key around
 * the read: a flight for the key that ends meanwhile hands the watch its result.
 *
 * Another pod's write detaches nothing here unless Redis pushes it (ADR 0018, an L1 tier only), and a
 * push may come late: what makes a shared answer safe across pods is the store's fence (ADR 0005). A
 * fenced store that succeeds proves no pod invalidated the entry's tags between the fill's start and
 * the store — so every request that was waiting *before the store was sent* may take the answer. A
 * request that arrives after the store was sent is not covered by that proof: it joins, but reads the
 * store again instead of taking the answer (cache-path.ts), and watches opened then are handed nothing.
 * Nor is one needed for a request that arrived before the flight began (`startedAt`): it takes the
 * answer whatever the store's verdict — so the waiters of a refused fill, looking again, share the next
 * fill even when a second write refuses that one too.
 *
 * Keys whose answers cannot be shared are not coalesced for a while (hit-for-pass, pass-marks.ts).
 */
export interface Flight<T> {
  readonly key: string;
  readonly tags: readonly string[];
  readonly result: Promise<T>;
  /**
   * performance.now() when the flight was led. A request that arrived no later takes its answer whatever
   * its store's verdict: the upstream was asked after every write that ended before the request came.
   */
  readonly startedAt: number;
  /** The leader's store was sent: a request joining now may follow a write the store's fence did not see. */
  readonly storeSent: boolean;
}

export interface LeadFlight<T> extends Flight<T> {
  /** Wakes every waiter with the result. */
  resolve(result: T): void;
  /** The leader's (fenced) store is on its way: watches opened from now on are not handed the result. */
  storing(): void;
  /**
   * Removes the flight (after its entry is stored, so late arrivals still find it until then) and hands
   * its result to the watches opened before the store was sent — unless `shared` is false (the store's
   * fence refused the entry: it predates another pod's write).
   */
  end(shared?: boolean): void;
}

/** Open from before a store read until the request has decided what to do. */
export interface Watch<T> {
  /** The result of a flight for the key that ended (not detached) since the watch began. */
  ended(): T | undefined;
  close(): void;
}

interface WatchState<T> {
  /** The how-manieth watch this is (of the coalescer's): which stores were sent before it was opened. */
  readonly opened: number;
  ended?: { readonly result: T; readonly tags: readonly string[] } | undefined;
}

/** One watch: a class, not closures, since every cacheable request opens one (ADR 0027). */
class KeyWatch<T> implements Watch<T> {
  readonly #coalescer: Coalescer<T>;
  readonly #watches: Map<string, Set<WatchState<T>>>;
  readonly #key: string;
  readonly #state: WatchState<T>;

  constructor(
    coalescer: Coalescer<T>,
    watches: Map<string, Set<WatchState<T>>>,
    key: string,
    state: WatchState<T>,
  ) {
    this.#coalescer = coalescer;
    this.#watches = watches;
    this.#key = key;
    this.#state = state;
  }

  ended(): T | undefined {
    return this.#coalescer.sharing ? this.#state.ended?.result : undefined;
  }

  close(): void {
    const set = this.#watches.get(this.#key);
    if (set?.delete(this.#state) && set.size === 0) this.#watches.delete(this.#key);
  }
}

export class Coalescer<T> {
  readonly #flights = new Map<string, LeadFlight<T>>();
  readonly #watches = new Map<string, Set<WatchState<T>>>();
  /** Watches opened so far: a store covers those numbered up to the count when it was sent. */
  #opened = 0;
  /** Hit-for-pass: keys whose requests fetch for themselves instead of joining a flight. */
  readonly passMarks = new PassMarks();

  /**
   * While isolated, no request joins a flight or takes an ended flight's result: each fetches for
   * itself. For a pod that may miss other pods' invalidations (its L1 invalidation channel is down,
   * ADR 0018): nothing would detach a flight that predates another pod's write.
   */
  #isolated = false;

  isolate(isolated: boolean): void {
    this.#isolated = isolated;
  }

  /** The flight in progress for a key, if any (none while isolated). */
  current(key: string): Flight<T> | undefined {
    return this.#isolated ? undefined : this.#flights.get(key);
  }

  /** Starts the flight for a key; the caller must not already find one with `current`. */
  lead(key: string, tags: readonly string[]): LeadFlight<T> {
    const flight = this.#flight(key, tags, true);
    this.#flights.set(key, flight);
    return flight;
  }

  /** A flight nobody can join (a request that must fetch for itself). */
  solo(key: string, tags: readonly string[]): LeadFlight<T> {
    return this.#flight(key, tags, false);
  }

  watch(key: string): Watch<T> {
    const state: WatchState<T> = { opened: ++this.#opened };
    let watching = this.#watches.get(key);
    if (watching === undefined) {
      watching = new Set();
      this.#watches.set(key, watching);
    }
    watching.add(state);
    return new KeyWatch(this, this.#watches, key, state);
  }

  /** Whether a watch may take an ended flight's result (not while isolated). */
  get sharing(): boolean {
    return !this.#isolated;
  }

  /** Detaches flights for these keys or carrying any of these tags (and forgets their ended results). */
  detach(keys: ReadonlySet<string>, tags: ReadonlySet<string>): void {
    this.#detachWhere((key, flightTags) => keys.has(key) || flightTags.some((tag) => tags.has(tag)));
  }

  /** Detaches every flight (an invalidation this pod could not hear may concern any of them). */
  detachAll(): void {
    this.#detachWhere(() => true);
  }

  #detachWhere(concerned: (key: string, flightTags: readonly string[]) => boolean): void {
    for (const [key, flight] of this.#flights) {
      if (concerned(key, flight.tags)) this.#flights.delete(key);
    }
    for (const [key, watching] of this.#watches) {
      for (const state of watching) {
        if (state.ended && concerned(key, state.ended.tags)) state.ended = undefined;
      }
    }
    this.passMarks.forget(concerned);
  }

  get size(): number {
    return this.#flights.size;
  }

  #flight(key: string, tags: readonly string[], joinable: boolean): LeadFlight<T> {
    let resolve!: (result: T) => void;
    let settled: { result: T } | undefined;
    /**
     * The watches opened before the store was sent (numbered up to this): the only ones its fence vouches
     * for. A count, not a copy of the key's watches: every fill sends a store.
     */
    let covered: number | undefined;
    const result = new Promise<T>((done) => {
      resolve = done;
    });
    const flights = this.#flights;
    const watches = this.#watches;
    const flight: LeadFlight<T> = {
      key,
      tags,
      result,
      startedAt: performance.now(),
      get storeSent() {
        return covered !== undefined;
      },
      resolve(value) {
        if (settled !== undefined) return; // the first result wins (a timed-out wait, then the verdict)
        settled = { result: value };
        resolve(value);
      },
      storing: () => {
        covered ??= this.#opened;
      },
      end(shared = true) {
        if (!joinable || flights.get(key) !== flight) return;
        flights.delete(key);
        if (settled === undefined || !shared) return;
        for (const state of watches.get(key) ?? []) {
          if (covered === undefined || state.opened <= covered)
            state.ended = { result: settled.result, tags };
        }
      },
    };
    return flight;
  }
}
