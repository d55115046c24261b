/** A stored response and what the cache needs to reuse it. */
export interface CacheEntry {
  readonly status: number;
  /** End-to-end response fields as `[name, value, …]`, lowercase names, without Age/Content-Length. */
  readonly headers: readonly string[];
  readonly body: Buffer;
  /** When this cache stored it (ms, from the injected clock). */
  readonly storedAt: number;
  /** The upstream's `Age` when stored (seconds), added to the Age this cache reports. */
  readonly initialAgeSeconds: number;
  /** Freshness lifetime from `storedAt`. */
  readonly freshMs: number;
  readonly staleWhileRevalidateMs: number;
  readonly staleIfErrorMs: number;
  readonly tags: readonly string[];
  /** Request values of the fields the response's `Vary` names (null: absent), RFC 9111 §4.1. */
  readonly vary: readonly VaryValue[];
}

export type VaryValue = readonly [name: string, value: string | null];
