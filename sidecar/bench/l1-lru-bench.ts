/**
 * The L1's LRU, hand-written or on `lru-cache` (issue #17, ADR 0033): a benchmark, not a test.
 *
 * The hand-written store the sidecar used before ADR 0033 (l1-hand-written-store.ts, the baseline) and
 * the sidecar's `MemoryStore` on lru-cache (src/store/memory-store.ts) are compiled with tsc, as the
 * sidecar ships (into tmp/l1-lru-bench/, not committed), and each is measured alone in a fresh child process on plain node (l1-lru-bench-child.mjs):
 * heap bytes per entry (heapUsed after N entries, after a full GC, sharing one value buffer), then
 * lookups that hit, lookups that miss, overwrites, and puts of new keys that evict, as operations per
 * second of the child's CPU time. Rounds alternate the order (A B, B A, ...) so that a shared machine's
 * load lands on both; the table gives each measure's medians and the median of the per-round ratios.
 *
 *   npx tsx --conditions=source sidecar/bench/l1-lru-bench.ts [--rounds 6] [--entries 50000]
 *       [--capacity 20000]
 */
import { execFileSync } from "node:child_process";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BENCH_DIR, REPO } from "./bench-children.js";
import { formatL1Table, type L1Figures, type L1Round, summarizeL1 } from "./l1-lru-report.js";

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "6" },
    entries: { type: "string", default: "50000" },
    capacity: { type: "string", default: "20000" },
  },
});
const ROUNDS = Math.max(1, Math.min(20, Number(args.rounds)));
const ENTRIES = Math.max(1_000, Number(args.entries));
const CAPACITY = Math.max(1_000, Number(args.capacity));
const OUT = join(REPO, "tmp", "l1-lru-bench");

interface Implementation {
  readonly name: string;
  /** Under sidecar/. */
  readonly source: string;
  readonly module: string;
  readonly export: string;
}

const BASELINE: Implementation = {
  name: "hand-written",
  source: "bench/l1-hand-written-store.ts",
  module: join(OUT, "bench", "l1-hand-written-store.js"),
  export: "HandWrittenMemoryStore",
};
const CHALLENGER: Implementation = {
  name: "lru-cache",
  source: "src/store/memory-store.ts",
  module: join(OUT, "src", "store", "memory-store.js"),
  export: "MemoryStore",
};

/** Both stores (and what they import) with the repository's compiler options, under tmp/ in the repo. */
function compile(): void {
  const tsc = join(REPO, "node_modules", ".bin", "tsc");
  const sources = [BASELINE, CHALLENGER].map((implementation) =>
    join(REPO, "sidecar", implementation.source),
  );
  const options = ["--target", "ES2022", "--module", "nodenext", "--moduleResolution", "nodenext"];
  const out = ["--rootDir", join(REPO, "sidecar"), "--outDir", OUT, "--types", "node", "--skipLibCheck"];
  execFileSync(tsc, [...options, ...out, ...sources], { stdio: "inherit" });
}

function measure(implementation: Implementation): L1Figures {
  const out = execFileSync(
    process.execPath,
    [
      "--expose-gc",
      join(BENCH_DIR, "l1-lru-bench-child.mjs"),
      implementation.module,
      implementation.export,
      String(ENTRIES),
      String(CAPACITY),
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  return JSON.parse(out) as L1Figures;
}

compile();
const loadBefore = loadavg()[0] ?? 0;
const rounds: L1Round[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const first = round % 2 === 0 ? BASELINE : CHALLENGER;
  const second = first === BASELINE ? CHALLENGER : BASELINE;
  const figures = new Map([
    [first, measure(first)],
    [second, measure(second)],
  ]);
  rounds.push({
    baseline: figures.get(BASELINE) as L1Figures,
    challenger: figures.get(CHALLENGER) as L1Figures,
  });
  console.error(`>> round ${round + 1}/${ROUNDS} done`);
}
const loadAfter = loadavg()[0] ?? 0;

console.log(
  [
    `L1 LRU: ${BASELINE.name} (baseline) vs ${CHALLENGER.name}, ${ROUNDS} rounds alternating the order,`,
    `${ENTRIES} entries for the heap figure, a store of ${CAPACITY} entries for throughput; node ${process.version};`,
    `1-min load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after.`,
    "",
    formatL1Table(summarizeL1(rounds), { baseline: BASELINE.name, challenger: CHALLENGER.name }),
  ].join("\n"),
);
