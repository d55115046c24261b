/**
 * Hit-for-pass: a key whose last fill could not be shared (Set-Cookie, private, no-store, Vary: *,
 * over maxBodyBytes) is remembered for a while, and requests for it do not queue behind a leader
 * that will not share either: they fetch for themselves at once, streaming. A write to the key or its
 * tags (Coalescer.detach), or a fill of it that is stored, forgets the mark. Bounded: the oldest mark
 * is forgotten first.
 */

/** How long a key answered with an unshareable response goes uncoalesced (as Varnish's 120 s). */
export const HIT_FOR_PASS_MS = 120_000;
const MAX_KEYS = 10_000;

interface PassMark {
  readonly until: number;
  readonly tags: readonly string[];
}

export class PassMarks {
  readonly #marks = new Map<string, PassMark>();

  /** Remembers that the key's answer could not be shared, until `until` (ms). */
  mark(key: string, tags: readonly string[], until: number): void {
    this.#marks.delete(key);
    this.#marks.set(key, { until, tags });
    if (this.#marks.size > MAX_KEYS) {
      const oldest = this.#marks.keys().next().value;
      if (oldest !== undefined) this.#marks.delete(oldest);
    }
  }

  /** Whether requests for the key should fetch for themselves instead of joining a flight. */
  passes(key: string, now: number): boolean {
    const mark = this.#marks.get(key);
    if (mark === undefined) return false;
    if (now < mark.until) return true;
    this.#marks.delete(key);
    return false;
  }

  /** Forgets the key's mark (its answer was stored after all). */
  unmark(key: string): void {
    this.#marks.delete(key);
  }

  /** Forgets the marks of these keys or of keys carrying any of these tags (a write). */
  forget(concerned: (key: string, tags: readonly string[]) => boolean): void {
    for (const [key, mark] of this.#marks) if (concerned(key, mark.tags)) this.#marks.delete(key);
  }
}
