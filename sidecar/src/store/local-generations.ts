/**
 * In-process tag generations, the memory store's fences: a counter bumped by every tag invalidation,
 * and for the most recently invalidated tags (at most `limit`) the counter value of their last one.
 * A tag pushed out of that memory makes every fence older than its invalidation doubt: "moved".
 * Pure; the memory store owns one.
 */
export class LocalGenerations {
  readonly #limit: number;
  readonly #last = new Map<string, number>();
  #current = 0;
  #forgottenUpTo = 0;

  constructor(limit = 4_096) {
    this.#limit = Math.max(1, limit);
  }

  get current(): number {
    return this.#current;
  }

  bump(tags: readonly string[]): void {
    if (tags.length === 0) return;
    this.#current++;
    for (const tag of tags) {
      this.#last.delete(tag); // re-inserted last: the Map's order is the order of invalidation
      this.#last.set(tag, this.#current);
    }
    for (const [tag, generation] of this.#last) {
      if (this.#last.size <= this.#limit) break;
      this.#last.delete(tag);
      this.#forgottenUpTo = generation;
    }
  }

  /** Whether any of the tags was invalidated after generation `since` (or may have been). */
  movedSince(since: number, tags: readonly string[]): boolean {
    if (since === this.#current) return false;
    if (since < this.#forgottenUpTo) return true;
    return tags.some((tag) => (this.#last.get(tag) ?? 0) > since);
  }
}
