/**
 * The L1's last-entry delete after a peak (review s25 L2, ADR 0033): a benchmark, not a test.
 *
 * lru-cache 11's `delete` of a cache's only entry runs its `clear`, which refills each per-slot array
 * over the longest length the cache ever had. `MemoryStore` drops such a cache whole instead, once it
 * has held more than a few hundred entries. This prints the time of one put + removeTags of a store's
 * only entry, in a fresh store and in stores that once held `peak` entries (default 256 and 200,000).
 * The test that guards it counts array slots filled (memory-store.test.ts); this is the time it costs.
 *
 *   node --import tsx --conditions=source sidecar/bench/l1-last-entry-cliff.ts [peak ...]
 */
import { MemoryStore } from "../src/store/memory-store.js";

const peaks = process.argv.slice(2).map(Number);
const VALUE = Buffer.alloc(16);
const OPERATIONS = 2_000;

/** Microseconds per put + removeTags of the store's only entry (median of 5 runs). */
function perOperation(store: MemoryStore): number {
  const runs: number[] = [];
  for (let run = 0; run < 5; run++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < OPERATIONS; i++) {
      store.put("k", VALUE, { ttlMs: 60_000, tags: ["t"] });
      store.removeTags(["t"]);
    }
    runs.push(Number(process.hrtime.bigint() - start) / OPERATIONS / 1_000);
  }
  return runs.sort((a, b) => a - b)[2] ?? Number.NaN;
}

function afterPeak(peak: number): MemoryStore {
  const store = new MemoryStore({ maxBytes: 2 ** 40 });
  const keys = Array.from({ length: peak }, (_, i) => `key-${i}`);
  for (const key of keys) store.put(key, VALUE, { ttlMs: 60_000, tags: [] });
  store.remove(keys);
  return store;
}

perOperation(new MemoryStore({ maxBytes: 2 ** 40 })); // warm-up
const rows = [{ peak: 0, usPerPutAndRemove: perOperation(new MemoryStore({ maxBytes: 2 ** 40 })) }];
for (const peak of peaks.length > 0 ? peaks : [256, 200_000]) {
  rows.push({ peak, usPerPutAndRemove: perOperation(afterPeak(peak)) });
}
for (const row of rows) {
  process.stdout.write(
    `${JSON.stringify({ ...row, usPerPutAndRemove: +row.usPerPutAndRemove.toFixed(2) })}\n`,
  );
}
