/**
 * Child process of sidecar/bench/l1-lru-bench.ts: one L1 implementation (a tsc-built module exporting
 * the store class) measured alone in a fresh process on plain node, started with --expose-gc.
 * argv: module path, export name, entries for the memory figure, entries the throughput store holds.
 * Prints one JSON line: per-entry heap bytes, then operations per second of each operation.
 */
const [modulePath = "", exportName = "", memoryEntriesArg = "50000", capacityArg = "20000"] =
  process.argv.slice(2);
const Store = (await import(modulePath))[exportName];
const MEMORY_ENTRIES = Number(memoryEntriesArg);
const CAPACITY = Number(capacityArg);
const gc = globalThis.gc;
if (typeof gc !== "function") throw new Error("run with --expose-gc");

// One value that owns its backing store, shared by every entry: the heap figure is what the store's
// own structures cost per entry (the body, external memory, is the same for both implementations).
const VALUE = Buffer.allocUnsafeSlow(512).fill(7);
const TTL = 60_000;
// Fixed-width ids: every entry counts the same bytes, so the throughput store holds exactly CAPACITY.
const id = (i) => String(i).padStart(7, "0");
const keyOf = (i) => `GET /items/${id(i)}?lang=en#v1`;
const tagsOf = (i) => ["route:/items", `item:${id(i)}`];
const options = (i) => ({ ttlMs: TTL, tags: tagsOf(i) });

function heapUsed() {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function perEntryHeap() {
  const keys = Array.from({ length: MEMORY_ENTRIES }, (_, i) => keyOf(i));
  const opts = Array.from({ length: MEMORY_ENTRIES }, (_, i) => options(i));
  const store = new Store({ maxBytes: 1 << 30 });
  const before = heapUsed();
  for (let i = 0; i < MEMORY_ENTRIES; i++) store.put(keys[i], VALUE, opts[i]);
  const after = heapUsed();
  if (store.entries !== MEMORY_ENTRIES) throw new Error(`expected ${MEMORY_ENTRIES} entries`);
  return (after - before) / MEMORY_ENTRIES;
}

/**
 * Operations per second of this process's CPU time (user + system, GC threads included) over `count`
 * runs of `run(i)`: on a shared machine, time spent waiting for a core is not counted against either.
 */
function rate(count, run) {
  const start = process.cpuUsage();
  for (let i = 0; i < count; i++) run(i);
  const used = process.cpuUsage(start);
  return count / ((used.user + used.system) / 1e6);
}

function throughput() {
  // The bound that holds exactly CAPACITY entries: the first entry's bytes, then each next one's. They
  // differ in MemoryStore, which counts the tag index's sets apart: the first entry brings the shared
  // route tag's set, each entry its own item tag's set (ADR 0033).
  const probe = new Store({ maxBytes: 1 << 30 });
  probe.put(keyOf(0), VALUE, options(0));
  const first = probe.bytes;
  probe.put(keyOf(1), VALUE, options(1));
  const bound = first + (CAPACITY - 1) * (probe.bytes - first);
  const store = new Store({ maxBytes: bound });
  const total = CAPACITY * 3;
  const keys = Array.from({ length: total }, (_, i) => keyOf(i));
  const opts = Array.from({ length: total }, (_, i) => options(i));
  for (let i = 0; i < CAPACITY; i++) store.put(keys[i], VALUE, opts[i]);
  // Random live keys (a fixed xorshift sequence, the same for both implementations).
  const picks = new Uint32Array(1 << 16);
  let x = 2463534242;
  for (let i = 0; i < picks.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    picks[i] = (x >>> 0) % CAPACITY;
  }
  const mask = picks.length - 1;
  const absent = Array.from({ length: 1 << 12 }, (_, i) => `GET /absent/${i}`);
  let found = 0;
  const hit = (i) => {
    if (store.lookup(keys[picks[i & mask]]) !== undefined) found++;
  };
  rate(200_000, hit); // warm-up
  const result = {
    hit: rate(1_000_000, hit),
    miss: rate(1_000_000, (i) => store.lookup(absent[i & 4095])),
    overwrite: rate(300_000, (i) => {
      const k = picks[i & mask];
      store.put(keys[k], VALUE, opts[k]);
    }),
    // New keys: each put evicts the least recently used entry (and its tags).
    setEvict: rate(total - CAPACITY, (i) => store.put(keys[CAPACITY + i], VALUE, opts[CAPACITY + i])),
  };
  if (found !== 1_200_000 || store.entries !== CAPACITY) throw new Error("the workload did not hit");
  return result;
}

const heapPerEntry = perEntryHeap();
gc();
console.log(JSON.stringify({ heapPerEntry, ...throughput() }));
