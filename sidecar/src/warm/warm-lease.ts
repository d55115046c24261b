import { msUntilNextSlot, warmLeaseKey, warmLeaseMs, warmSlot } from "../store/lease-layout.js";

/**
 * Warming once across replicas (ADR 0019): the wall clock is cut into `every`-long slots, and in each
 * slot one replica claims a warm entry's lease in Redis (`SET NX PX`) and warms it; the others skip.
 * Without Redis, or when Redis cannot be asked, every replica warms (as before: twice is better than
 * never). A claimer whose warm fails gives the slot up, and the replicas that skipped it look once
 * more halfway through what is left of it: a replica whose own app is down (each pod fronts its own)
 * does not leave the entry unwarmed — and the replica with the clock furthest ahead claims first.
 */
export interface WarmClaims {
  /** `SET key NX PX ttlMs`: "claimed" by this replica, "taken" by another, or "unavailable". */
  claim(key: string, ttlMs: number): Promise<"claimed" | "taken" | "unavailable">;
  /** Gives a claim up (`DEL`), so that another replica may take it; never rejects. */
  unclaim(key: string): Promise<void>;
}

/** What a replica does with an entry in a slot; `forfeit` after a failed warm. */
export interface WarmDecision {
  readonly verdict: "warm" | "skip";
  readonly slot: number;
  forfeit(): Promise<void>;
}

export interface WarmEntry {
  readonly path: string;
  readonly host?: string;
  readonly everyMs: number;
}

export class WarmLease {
  readonly #claims: WarmClaims | undefined;
  readonly #prefix: string;
  readonly #now: () => number;

  constructor(options: { claims?: WarmClaims | undefined; prefix: string; now?: () => number }) {
    this.#claims = options.claims;
    this.#prefix = options.prefix;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Whether this replica warms the entry in the current slot ("skip": another replica took it). With
   * `slot` (a second look): skips unless that slot is still the current one.
   */
  async decide(entry: WarmEntry, slot?: number): Promise<WarmDecision> {
    const now = this.#now();
    const current = warmSlot(now, entry.everyMs);
    const claims = this.#claims;
    const decided = (verdict: "warm" | "skip", forfeit = async (): Promise<void> => {}): WarmDecision => ({
      verdict,
      slot: current,
      forfeit,
    });
    if (slot !== undefined && slot !== current) return decided("skip");
    if (claims === undefined) return decided("warm");
    const key = warmLeaseKey(this.#prefix, entry, current);
    const claimed = await claims.claim(key, warmLeaseMs(now, entry.everyMs));
    return decided(claimed === "taken" ? "skip" : "warm", () => claims.unclaim(key));
  }

  /** When a replica that skipped the current slot looks again: halfway through what is left of it. */
  retryInMs(entry: WarmEntry): number {
    return Math.floor(msUntilNextSlot(this.#now(), entry.everyMs) / 2);
  }

  /** When the entry's next slot starts: every replica runs then, and one of them warms. */
  nextRunInMs(entry: WarmEntry): number {
    return msUntilNextSlot(this.#now(), entry.everyMs);
  }
}
