import type { Readable } from "node:stream";
import type { NotStoredReason } from "../http-cache/cache-outcome.js";
import type { Headers } from "../http-cache/headers.js";
import type { LeadFlight } from "./coalescer.js";
import type { FillResult } from "./context.js";
import type { LateFill } from "./cross-pod.js";
import type { UpstreamResponse } from "./upstream.js";

/**
 * Coalescing, from the leader's side: a fill's flight is settled exactly once. The first answer wakes
 * every waiter; the flight ends (and the key's cross-pod lease is released) once that answer's entry is
 * stored, so requests arriving meanwhile still join it. A later answer — this pod's own, after another
 * pod's late fill won — is dropped.
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
  #settled = false;
  #release: (() => Promise<void>) | undefined;

  constructor(flight: LeadFlight<FillResult>) {
    this.#flight = flight;
  }

  /** The key's cross-pod lease (cross-pod.ts), released after the flight ends: once the entry is stored. */
  releaseAfter(release: (() => Promise<void>) | undefined): void {
    this.#release = release;
  }

  /** Wakes the waiters with the first answer; ends the flight once `storing` has. */
  finish(outcome: FillOutcome, storing?: Promise<void>): FillOutcome {
    // Answered already by the late fill of another pod (cross-pod.ts): this one's answer is dropped.
    if (this.#settled) {
      outcome.stream?.body.destroy();
      return outcome;
    }
    this.#settled = true;
    this.#flight.resolve(outcome.result);
    if (storing) storing.finally(() => this.#end());
    else this.#end();
    return outcome;
  }

  /** A bug must not strand the waiters: they fetch for themselves, as after an unshareable answer. */
  abandon(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#flight.resolve({ kind: "pass" });
    this.#end();
  }

  #end(): void {
    this.#flight.end();
    void this.#release?.();
  }
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
