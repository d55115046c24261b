/**
 * What an L1 entry costs, in the bytes `MemoryStore`'s bound counts (ADR 0033). An estimate of the
 * resident memory an entry holds, fitted on sidecar/bench/l1-memory-accounting.ts (entries with their
 * own bodies, a unique path tag and a shared route tag, as the sidecar stores them): after a full GC,
 * a fill of 50,000 entries held 0.99–1.20 resident bytes per counted byte for 64 B to 16 KiB bodies,
 * 0.90–1.06 at 150,000 (ADR 0033, "What an entry costs"). Pure: no I/O.
 */

/**
 * Per body Buffer, beyond its bytes: the Buffer and ArrayBuffer objects on V8's heap (~194), the
 * backing store's bookkeeping outside it and the allocator's headers and rounding. Measured (the
 * benchmark's `--store buffers`, 100,000 `owned()` copies held in an array, the second half of the fill):
 * 470–490 resident bytes beyond the body's length for 65 B and 200 B bodies, 300–370 for 2 KiB and 16 KiB.
 */
export const BUFFER_OVERHEAD_BYTES = 448;

/**
 * Per entry, beyond its key's and body's bytes: the body's Buffer (`BUFFER_OVERHEAD_BYTES`), then 192:
 * the entry object with its two times (heap numbers) and its tag array, the key's string objects, its
 * slot in lru-cache's key map and per-slot arrays (key, value, next, prev, size) with their growth
 * slack. Measured: ~400 heap bytes per entry besides the Buffer (two shared tags), of which the key and
 * tag terms of `entryBytes` count ~210. The sum is what the benchmark checks against resident memory.
 */
export const ENTRY_OVERHEAD_BYTES = 192 + BUFFER_OVERHEAD_BYTES;

/** Per tag an entry carries: the tag's string, its slot in the entry's tag array and in the tag's set. */
export const TAG_MEMBERSHIP_OVERHEAD_BYTES = 48;

/**
 * Per distinct tag in the index, counted while its set holds a key (not per entry): the `Set` and its
 * hash table, the index's `Map` slot, and the tag string the index is keyed by. A path tag is unique
 * per entry, so every sidecar entry brings one; a route tag's set is shared by all its entries.
 * Measured: ~170 heap bytes, ~200 resident, more per entry with a unique tag than with a shared one.
 */
export const TAG_SET_OVERHEAD_BYTES = 200;

/** The bytes counted for one entry; its tags' sets are counted apart (`TAG_SET_OVERHEAD_BYTES`). */
export function entryBytes(key: string, value: Buffer, tags: readonly string[]): number {
  const keyBytes = Buffer.byteLength(key);
  let tagBytes = 0;
  for (const tag of tags) tagBytes += Buffer.byteLength(tag) + keyBytes + TAG_MEMBERSHIP_OVERHEAD_BYTES;
  return ENTRY_OVERHEAD_BYTES + keyBytes + value.length + tagBytes;
}

/**
 * `value` itself when it owns its whole backing store, else an exact-size copy in a backing store of
 * its own. A value decoded from a Redis reply is a view into the parser's read buffer (often a shared
 * pool many times its size), and a small body made by `Buffer.concat`/`allocUnsafe`/`from` is a slice of
 * node's shared 8 KiB pool: kept as it is, each entry would pin memory its byte count never sees (the
 * soak measured 1.6 resident bytes per counted byte before this). The copy is never pooled
 * (`allocUnsafeSlow`), so an entry never pins a pool slab its evicted neighbours shared.
 */
export function owned(value: Buffer): Buffer {
  if (value.byteOffset === 0 && value.buffer.byteLength === value.length) return value;
  const copy = Buffer.allocUnsafeSlow(value.length);
  value.copy(copy);
  return copy;
}
