import { DIGEST_PREFIX } from "./trim.js";

/**
 * Equal strings and string lists shared by the objects the informers cache. Every object arrives as
 * JSON, one new string per value: 5,000 Roles held 15,000 copies of "get", "list" and "watch", and as
 * many of each namespace, label value and owner's apiVersion. The pool hands out one copy of each
 * (ADR 0017, section 6).
 *
 * Bounded: past `capacity` entries it starts again empty, so strings of objects long gone are not
 * kept forever (objects cached before keep their shared strings; only later ones share anew). Values
 * that are nearly always unique to one object (its name, uid, resourceVersion, timestamps, condition
 * messages, trim.ts's digests) and long strings or lists are not pooled: they would only churn the pool.
 */

export const POOL_CAPACITY = 50_000;
/** Longer strings (and lists of more characters in all) are left as they are: mostly unique. */
export const POOLED_MAX_LENGTH = 256;
const UNIQUE_KEYS: ReadonlySet<string> = new Set([
  "name",
  "generateName",
  "uid",
  "resourceVersion",
  "creationTimestamp",
  "deletionTimestamp",
  "lastTransitionTime",
  "message",
]);

export class ValuePool {
  private strings = new Map<string, string>();
  private lists = new Map<string, readonly string[]>();

  constructor(private readonly capacity = POOL_CAPACITY) {}

  get size(): number {
    return this.strings.size + this.lists.size;
  }

  string(value: string): string {
    if (value.length > POOLED_MAX_LENGTH || value.startsWith(DIGEST_PREFIX)) return value;
    const pooled = this.strings.get(value);
    if (pooled !== undefined) return pooled;
    this.makeRoom();
    this.strings.set(value, value);
    return value;
  }

  /** One frozen array per list of equal strings (a cached object is never written to). */
  list(values: readonly string[]): readonly string[] {
    // JSON, not a join: ["a\u0000b"] and ["a", "b"] must not meet under one key.
    const key = JSON.stringify(values);
    if (key.length > POOLED_MAX_LENGTH) return values;
    const pooled = this.lists.get(key);
    if (pooled !== undefined) return pooled;
    const list = Object.freeze(values.map((value) => this.string(value)));
    this.makeRoom();
    this.lists.set(key, list);
    return list;
  }

  /**
   * Replaces, in place, every string of `value` (an object the informer just parsed and owns) with
   * the pool's, and every list of strings with the pool's frozen one. Returns `value`.
   */
  share<T>(value: T): T {
    if (Object.isFrozen(value)) return value; // primitives, and the pool's own lists
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = this.shared(value[i]);
    } else if (value !== null && typeof value === "object" && !(value instanceof Date)) {
      const object = value as Record<string, unknown>;
      for (const key of Object.keys(object)) {
        if (!UNIQUE_KEYS.has(key)) object[key] = this.shared(object[key]);
      }
    }
    return value;
  }

  private shared(value: unknown): unknown {
    if (typeof value === "string") return this.string(value);
    if (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === "string")) {
      return this.list(value);
    }
    return this.share(value);
  }

  private makeRoom(): void {
    if (this.size < this.capacity) return;
    this.strings = new Map();
    this.lists = new Map();
  }
}
