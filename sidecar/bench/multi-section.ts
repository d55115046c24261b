/**
 * The "Many replicas (make bench-multi)" section of load-tests/results.md: the three parts' tables
 * with how each was measured. Pure: multi-bench.ts hands in what it measured and writes the result.
 */
import {
  formatHitRatio,
  formatHits,
  formatPropagation,
  type HitsRun,
  notAllHits,
  type PropagationSummary,
  type ReplicaPhase,
} from "./multi-report.js";

export interface MultiRun {
  readonly date: string;
  readonly machine: string;
  readonly command: string;
  readonly replicas: number;
  readonly hits?: HitsRun & { readonly descriptions: readonly string[] };
  readonly propagation?: {
    readonly summary: PropagationSummary;
    readonly probeP50Ms: number;
    readonly pushedEvictions: number;
  };
  readonly hitRatio?: {
    readonly phases: readonly [ReplicaPhase, ReplicaPhase];
    readonly rate: number;
    readonly durationSeconds: number;
    readonly warmupSeconds: number;
    readonly size: string;
    readonly primedKeys: number;
  };
}

function hitsPart(run: MultiRun, hits: NonNullable<MultiRun["hits"]>): string[] {
  const degraded = notAllHits(hits.served).map((r) => r.name);
  const warning =
    degraded.length === 0
      ? []
      : [
          `**Not every response was a hit** in ${degraded.join(", ")} (a Redis command timed out, the circuit opened: the machine`,
          "was too busy): those rows do not measure hits. Run again on an idle machine.",
          "",
        ];
  return [
    `### L1 hit vs Redis hit, ${run.replicas} replicas`,
    "",
    ...warning,
    `One key through every replica, the same \`host\` on every request (the Host header is part of the key). Each row: a 1 s warm-up, then ${hits.rounds} interleaved rounds`,
    `(a different row first each round) of ${hits.durationSeconds} s at one connection (a third of it on each replica in turn: the service time) and ${hits.durationSeconds} s at ${hits.connections}`,
    `connections spread evenly over the replicas (throughput). req/s is the median round; percentiles pool every response. The sidecars run the tsc build (\`sidecar/dist\`), each in its own process.`,
    "",
    formatHits(hits),
    "",
    "The last table is what the replicas' own counters say about the measured runs: each row should show",
    "every response a hit, the L1 row (almost) no Redis read per response and the Redis row one.",
    "",
    "The io-turn wait (an L1 copy is served after one more event-loop poll, ADR 0018) cannot be switched",
    "off without a product flag, so its cost shows as the L1 hit's p50 over the memory-store hit's: that",
    "difference is the whole tiered path (coherence checks and the wait), an upper bound of the wait alone.",
    "",
    "Rows:",
    "",
    ...hits.descriptions.map((d) => `- ${d}`),
  ];
}

function propagationPart(run: MultiRun, p: NonNullable<MultiRun["propagation"]>): string[] {
  return [
    `### Invalidation propagation to the other replicas' L1`,
    "",
    "What a user sees: how long after a write through one replica a read through another can still get the",
    "old copy from that pod's L1. Per write, a fresh resource: the writer fills it; both other replicas read it",
    "twice (a Redis hit that fills L1, then an L1 hit); each of them is then probed with back-to-back GETs on",
    "one keep-alive connection, and once each has answered one probe the write (POST; the origin bumps the",
    `resource's version) goes through the writer. The writer rotates over the ${run.replicas} replicas. Times are taken`,
    "from the moment the invalidation was applied in Redis, bounded by the earlier of two observations: its",
    "push reaching a Redis connection of the bench's own, in a process of its own and armed like each sidecar's",
    "invalidation channel (`CLIENT TRACKING on REDIRECT <id> BCAST` on the policy's prefixes, subscribed to",
    "`__redis__:invalidate`; Redis sends the push to every such connection in the same pass), and the write's",
    "response reaching the client (the writer answers only once Redis has applied it). A reader dropped its",
    "copy between the send times of its last probe that got the old copy and its first that got the new",
    "version: the first row is the conservative figure the target is judged on. Negative: sent before.",
    "",
    formatPropagation(p.summary, p.probeP50Ms),
    "",
    `Over the run the replicas' \`apicache_l1_pushed_evictions_total\` rose by ${p.pushedEvictions} (L1 copies dropped by pushes,`,
    "fills' own pushes included).",
  ];
}

function hitRatioPart(h: NonNullable<MultiRun["hitRatio"]>): string[] {
  const [one, many] = h.phases;
  return [
    `### Hit ratio of the demo's mixed scenario, ${many.replicas} replicas vs ${one.replicas}`,
    "",
    `The demo API (\`${h.size}\` dataset) with \`load-tests/policies/demo.yaml\`, the mixed scenario (\`load-tests/scenarios/mixed.json\`,`,
    `10% writes with invalidation, read-after-write checks) at ${h.rate} requests/s (open model) for ${h.durationSeconds} s after a ${h.warmupSeconds} s warm-up,`,
    `the same request stream in both phases: through ${one.replicas} sidecar, then through ${many.replicas} sharing one Redis, requests`,
    "spread round robin over them with one `host` (the checks' reads too, so they cross pods). Each phase",
    `has a fresh Redis and fresh sidecars, and first reads each of the scenario's ${h.primedKeys} distinct read keys once`,
    "(the harness's priming). Hit ratio from each response's `Cache-Status`; upstream requests from the",
    "sidecars' `apicache_upstream_request_duration_seconds_count` over the measured run (reads: that minus",
    "the writes they forwarded). The demo API keeps the first phase's writes for the second.",
    "",
    formatHitRatio(one, many),
    ...[...one.errors, ...many.errors].slice(0, 5).map((e) => `- error: ${e}`),
  ];
}

export function formatMultiSection(run: MultiRun): string {
  return [
    `Measured ${run.date} on ${run.machine}.`,
    "",
    `Command: \`${run.command}\`. Everything on 127.0.0.1: ${run.replicas} sidecar processes sharing one \`redis-server\`, the`,
    "load generator in the benchmark process, all on the same cores: compare rows within one run, not across runs.",
    "",
    ...(run.hits ? [...hitsPart(run, run.hits), ""] : []),
    ...(run.propagation ? [...propagationPart(run, run.propagation), ""] : []),
    ...(run.hitRatio ? [...hitRatioPart(run.hitRatio), ""] : []),
  ].join("\n");
}
