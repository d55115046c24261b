import type { Readable } from "node:stream";
import type { NotStoredReason } from "../http-cache/cache-outcome.js";
import type { Headers } from "../http-cache/headers.js";
import { fairTimeout } from "../timers/fair-timeout.js";
import type { LeadFlight } from "./coalescer.js";
import type { FillResult } from "./context.js";
import type { LateFill } from "./cross-pod.js";
import type { StoreOutcome } from "./fill-store.js";
import type { UpstreamResponse } from "./upstream.js";

/**
 * Coalescing, from the leader's side: a fill's flight is settled exactly once. The leader answers its
 * own client at once; the waiters are woken once the answer's entry is stored — the store's fence is
 * what proves the answer does not predate another pod's write (coalescer.ts) — and, if the fence
 * refused it, told to ask again. The wait is bounded by the store's own deadline: a store that has not
 * answered by then (Redis gone) proves nothing either way, and the waiters take the answer, as they
 * would with no shared store. (Once the circuit is open, stores fail at once: the wait is one-off.) The flight ends (and the key's cross-pod lease is released) once
 * the store is done, so requests arriving meanwhile still join it. A later answer — this pod's own,
 * after another pod's late fill won — is dropped.
 */
export interface FillOutcome {
  readonly result: FillResult;
  /** For "pass": the response to stream (already-read head chunks, then the rest). */
  readonly stream?: PassResponse;
}

export interface PassResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly head: readonly Buffer[];
  readonly body: Readable;
  readonly reason: NotStoredReason;
  /** Moves the connection to the upstream's "pass" lane before streaming (false: that lane is full). */
  readonly moveTo?: UpstreamResponse["moveTo"];
}

export class FlightSettlement {
  readonly #flight: LeadFlight<FillResult>;
  readonly #storeWaitMs: number;
  #settled = false;
  #release: (() => Promise<void>) | undefined;

  /** `storeWaitMs`: the longest waiters wait for the store's verdict (the store's own deadline). */
  constructor(flight: LeadFlight<FillResult>, storeWaitMs: number) {
    this.#flight = flight;
    this.#storeWaitMs = storeWaitMs;
  }

  /** The key's cross-pod lease (cross-pod.ts), released after the flight ends: once the entry is stored. */
  releaseAfter(release: (() => Promise<void>) | undefined): void {
    this.#release = release;
  }

  /** Wakes the waiters with the first answer once `storing` has a verdict; ends the flight once it is done. */
  finish(outcome: FillOutcome, storing?: Promise<StoreOutcome>): FillOutcome {
    // Answered already by the late fill of another pod (cross-pod.ts): this one's answer is dropped.
    if (this.#settled) {
      outcome.stream?.body.destroy();
      return outcome;
    }
    this.#settled = true;
    if (storing === undefined) {
      this.#flight.resolve(outcome.result);
      this.#end(true);
      return outcome;
    }
    this.#flight.storing();
    // Fair to I/O: a verdict already readable when the wait runs out still counts.
    const timer = fairTimeout(this.#storeWaitMs, () => this.#flight.resolve(outcome.result));
    storing.then(
      (stored) => {
        timer.clear();
        const refused = stored === "refused";
        this.#flight.resolve(refused ? superseded(outcome.result) : outcome.result);
        this.#end(!refused);
      },
      () => {
        timer.clear();
        this.#flight.resolve(outcome.result);
        this.#end(true);
      },
    );
    return outcome;
  }

  /** A bug must not strand the waiters: they fetch for themselves, as after an unshareable answer. */
  abandon(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#flight.resolve({ kind: "pass" });
    this.#end(true);
  }

  #end(shared: boolean): void {
    this.#flight.end(shared);
    void this.#release?.();
  }
}

/**
 * A refused answer, as the waiters get it: those that arrived after the fill began may still take it
 * (cache-path.ts), as an answer not stored.
 */
function superseded(result: FillResult): FillResult {
  if (result.kind === "superseded") return result;
  const answer =
    result.kind === "entry"
      ? { ...result, stored: false, reason: "invalidated-during-fetch" as const }
      : result;
  return { kind: "superseded", answer };
}

/** This pod's fill, or the late fill of another pod if its entry lands first (cross-pod.ts). */
export function firstAnswer(
  own: Promise<FillOutcome>,
  late: LateFill,
  settle: FlightSettlement,
): Promise<FillOutcome> {
  own.then(late.cancel, late.cancel);
  return Promise.race([own, late.landed.then((result) => settle.finish({ result }))]);
}
