/**
 * What an L1 entry really costs against what `MemoryStore` counts for it (review s25 L1, ADR 0033):
 * a benchmark, not a test. From the review's reproducer (review/l1-memory-accounting.ts on wt-review1).
 *
 * Each configuration runs alone in a fresh child process (node --expose-gc, through tsx): a store fills
 * with `--entries` entries shaped as the sidecar's, and the child reports, per entry, the bytes the
 * store counts and what the process holds for them, after a full GC: V8 heap, external memory, RSS.
 * - Each entry has its own body: a view into a 64 KiB "reply" buffer, as a value decoded from a Redis
 *   reply is, so `owned()` copies it, as the sidecar does. A 29-byte key, as the review's.
 * - Two tags, as the sidecar's route tag + path tag: the first shared by ~50 entries; the second
 *   unique per entry (`unique`, the path tag of every sidecar entry) or shared by ~3,800 (`shared`).
 * - RSS "fill" is from the empty store to the full one (the review's figure, which includes V8's young
 *   generation growing to its working size); RSS "2nd half" is the second half of the fill alone, the
 *   cost of one more entry once the process has grown.
 *
 *   node --expose-gc --import tsx --conditions=source sidecar/bench/l1-memory-accounting.ts
 *       [--entries 50000] [--bodies 64,200,2048,16384] [--tags unique,shared] [--store lru|hand|buffers]
 */
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { BUFFER_OVERHEAD_BYTES, MemoryStore, owned } from "../src/store/memory-store.js";
import { HandWrittenMemoryStore } from "./l1-hand-written-store.js";

const { values: args } = parseArgs({
  options: {
    entries: { type: "string", default: "50000" },
    bodies: { type: "string", default: "64,200,2048,16384" },
    tags: { type: "string", default: "unique,shared" },
    store: { type: "string", default: "lru" },
    child: { type: "string" },
  },
});

interface Figures {
  readonly store: string;
  readonly body: number;
  readonly tags: string;
  readonly entries: number;
  /** Per entry, bytes: counted by the store, V8 heap, external, RSS over the fill and its 2nd half. */
  readonly counted: number;
  readonly heap: number;
  readonly external: number;
  readonly rssFill: number;
  readonly rssSecondHalf: number;
}

interface Fillable {
  put(key: string, value: Buffer, options: { ttlMs: number; tags: readonly string[] }): void;
  readonly bytes: number;
  readonly entries: number;
}

/**
 * `lru`: the sidecar's MemoryStore; `hand`: the hand-written bench baseline (it does not count tag
 * sets); `buffers`: the bodies alone, as `owned()` copies in an array, counted as their bytes plus
 * `BUFFER_OVERHEAD_BYTES` (what one body Buffer costs).
 */
function storeOf(kind: string): Fillable {
  if (kind === "hand") return new HandWrittenMemoryStore({ maxBytes: 2 ** 40 });
  if (kind !== "buffers") return new MemoryStore({ maxBytes: 2 ** 40 });
  const kept: Buffer[] = [];
  let bytes = 0;
  return {
    put: (_key, value) => {
      kept.push(owned(value));
      bytes += value.length + BUFFER_OVERHEAD_BYTES;
    },
    get bytes() {
      return bytes;
    },
    get entries() {
      return kept.length;
    },
  };
}

function measure(config: { store: string; body: number; tags: string; entries: number }): Figures {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with node --expose-gc");
  const sample = () => {
    gc();
    gc();
    const { heapUsed, external, rss } = process.memoryUsage();
    return { heapUsed, external, rss };
  };
  const store = storeOf(config.store);
  const reply = Buffer.alloc(64 * 1024, 7);
  const put = (i: number) => {
    const key = `GET|/api/v2/items/${String(i).padStart(14, "0")}`;
    const offset = (i * 64) % (reply.length - config.body);
    const tags = [
      `tag:${String(i % 997).padStart(8, "0")}`,
      `p:${String(config.tags === "unique" ? i : i % 13).padStart(10, "0")}`,
    ];
    store.put(key, reply.subarray(offset, offset + config.body), { ttlMs: 3_600_000, tags });
  };
  const half = Math.floor(config.entries / 2);
  const empty = sample();
  for (let i = 0; i < half; i++) put(i);
  const halfway = sample();
  for (let i = half; i < config.entries; i++) put(i);
  const full = sample();
  if (store.entries !== config.entries)
    throw new Error(`expected ${config.entries} entries, ${store.entries}`);
  const n = config.entries;
  return {
    ...config,
    counted: store.bytes / n,
    heap: (full.heapUsed - empty.heapUsed) / n,
    external: (full.external - empty.external) / n,
    rssFill: (full.rss - empty.rss) / n,
    rssSecondHalf: (full.rss - halfway.rss) / (n - half),
  };
}

function row(f: Figures): string {
  const r = (x: number) => Math.round(x).toLocaleString("en-US");
  const ratio = (x: number) => (x / f.counted).toFixed(2);
  return `| ${f.store} | ${r(f.body)} | ${f.tags} | ${r(f.counted)} | ${r(f.heap)} | ${r(f.external)} | ${r(f.rssFill)} | ${r(f.rssSecondHalf)} | ${ratio(f.heap + f.external)} | **${ratio(f.rssFill)}** | ${ratio(f.rssSecondHalf)} |`;
}

if (args.child !== undefined) {
  process.stdout.write(`${JSON.stringify(measure(JSON.parse(args.child)))}\n`);
} else {
  const entries = Number(args.entries);
  process.stdout.write(
    `${entries.toLocaleString("en-US")} entries, node ${process.version}. Per entry, bytes:\n\n` +
      "| store | body | 2nd tag | counted | heap | external | RSS, fill | RSS, 2nd half | (heap + external) / counted | RSS / counted, fill | RSS / counted, 2nd half |\n" +
      "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
  );
  for (const body of args.bodies.split(",").map(Number)) {
    for (const tags of args.store === "buffers" ? ["-"] : args.tags.split(",")) {
      const child = JSON.stringify({ store: args.store, body, tags, entries });
      const out = execFileSync(
        process.execPath,
        [...process.execArgv, process.argv[1] ?? "", "--child", child],
        {
          encoding: "utf8",
        },
      );
      process.stdout.write(`${row(JSON.parse(out) as Figures)}\n`);
    }
  }
}
