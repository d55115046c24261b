import { msUntilNextSlot, warmLeaseKey, warmLeaseMs, warmSlot } from "../store/lease-layout.js";

/**
 * Warming once across replicas (ADR 0019): the wall clock is cut into `every`-long slots, and in each
 * slot one replica claims a warm entry's lease in Redis (`SET NX PX`) and warms it; the others skip.
 * Without Redis, or when Redis cannot be asked, every replica warms (as before: twice is better than
 * never).
 */
export interface WarmClaims {
  /** `SET key NX PX ttlMs`: "claimed" by this replica, "taken" by another, or "unavailable". */
  claim(key: string, ttlMs: number): Promise<"claimed" | "taken" | "unavailable">;
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

  /** Whether this replica warms the entry in the current slot ("skip": another replica took it). */
  async decide(entry: WarmEntry): Promise<"warm" | "skip"> {
    if (this.#claims === undefined) return "warm";
    const now = this.#now();
    const slot = warmSlot(now, entry.everyMs);
    const key = warmLeaseKey(this.#prefix, entry, slot);
    const claimed = await this.#claims.claim(key, warmLeaseMs(now, entry.everyMs));
    return claimed === "taken" ? "skip" : "warm";
  }

  /** When the entry's next slot starts: every replica runs then, and one of them warms. */
  nextRunInMs(entry: WarmEntry): number {
    return msUntilNextSlot(this.#now(), entry.everyMs);
  }
}
