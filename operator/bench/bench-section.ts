import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { FLAGS } from "../src/flags.js";
import { type RequestRow, total } from "./apiserver-requests.js";
import type { BenchOptions } from "./bench-options.js";
import type { StoredSize } from "./scale-phases.js";

/** The operator's default --workers, as its flag table says (the benchmark passes none). */
const WORKERS = FLAGS.find((flag) => flag.name === "workers")?.default?.({ argv: [], env: {} });

/** The figures of one run, the table printed at the end, and the "## Operator benchmark" section. */
export interface Latency {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export interface CpuSeconds {
  readonly operator: number;
  readonly apiServer: number;
  readonly etcd: number;
}

export interface PhaseFigures {
  readonly name: string;
  readonly ms: number;
  /** Reconciles the operator ran (its apicache_operator_reconcile_total, any result). */
  readonly reconciles: number;
  /** Of which result="requeue": the key put back for 100 ms because its namespace's pod cache had not synced. */
  readonly requeues: number;
  /** The operator's writes (API server counts, by verb/resource/code). */
  readonly writes: readonly RequestRow[];
  readonly cpu: CpuSeconds;
  /** The operator's resident set, and its V8 heap in use after a full GC, at the end of the phase. */
  readonly rssBytes: number;
  readonly liveHeapBytes: number;
}

/** One operator process: RSS when it became ready, its peak (VmHWM), peaks of V8 heap and external. */
export interface ProcessMemory {
  readonly idleRssBytes: number;
  /** Its V8 heap in use after a full GC when it became ready. */
  readonly idleLiveHeapBytes: number;
  readonly peakRssBytes: number;
  readonly peakHeapUsedBytes: number;
  readonly peakExternalBytes: number;
}

export interface BenchResult {
  readonly options: BenchOptions;
  /** The operator's NODE_OPTIONS (the chart's). */
  readonly nodeOptions: string | undefined;
  readonly command: string;
  readonly date: string;
  readonly machine: string;
  /** The process that created everything, and the one started after it on the same cluster. */
  readonly memory: { readonly first: ProcessMemory; readonly restarted: ProcessMemory };
  readonly readyMs: number;
  readonly pods?: {
    readonly count: number;
    readonly injected: number;
    readonly createMs: number;
    readonly countedMs: number;
    /** The operator's own webhook histogram during the creates: p99 is at most this (seconds). */
    readonly serverP99Le: number;
    readonly serverCount: number;
    /** One pod and one managed ConfigMap as the API server serves them (and informers cache them). */
    readonly sizes: { readonly pod: StoredSize; readonly configMap: StoredSize };
  };
  readonly latencies: Latency;
  /** The restarted process's start-up sync: every policy reconciled, nothing changed. */
  readonly restart: { readonly writes: readonly RequestRow[]; readonly ms: number };
  readonly resync: {
    /** The restarted process's --resync-period. */
    readonly period: string;
    readonly writes: readonly RequestRow[];
    readonly reconciles: number;
    readonly ms: number;
    readonly note?: string;
  };
  readonly phases: readonly PhaseFigures[];
}

const MIB = 1024 * 1024;
const n = (value: number) => value.toLocaleString("en-US");
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mib = (bytes: number) => `${(bytes / MIB).toFixed(0)} MiB`;
const verdict = (ok: boolean) => (ok ? "yes" : "**no**");

function headlineRows(r: BenchResult): string[] {
  const o = r.options;
  const peak = Math.max(r.memory.first.peakRssBytes, r.memory.restarted.peakRssBytes);
  const resyncWrites = total(r.resync.writes);
  return [
    `| ${n(o.policies)} CachePolicies (${o.namespaces} namespaces) created → all Ready for their generation | ${s(r.readyMs)} | ≤ 60 s | ${verdict(r.readyMs <= 60_000)} |`,
    `| operator peak RSS (VmHWM; the larger of the two processes) | ${mib(peak)} | ≤ 256 MiB | ${verdict(peak <= 256 * MIB)} |`,
    `| webhook p99, ${n(r.latencies.count)} AdmissionReviews at ${o.concurrency} concurrent | ${r.latencies.p99.toFixed(2)} ms | ≤ 20 ms | ${verdict(r.latencies.p99 <= 20)} |`,
    `| writes during one resync that changes nothing (${n(r.resync.reconciles)} reconciles) | ${n(resyncWrites)} | 0 | ${verdict(resyncWrites === 0)} |`,
  ];
}

function memoryRow(name: string, m: ProcessMemory): string {
  return `| ${name}: when ready RSS / live heap; peak RSS / V8 heap used / external | ${mib(m.idleRssBytes)} / ${mib(m.idleLiveHeapBytes)}; ${mib(m.peakRssBytes)} / ${mib(m.peakHeapUsedBytes)} / ${mib(m.peakExternalBytes)} |`;
}

function detailRows(r: BenchResult): string[] {
  const rows: string[] = [];
  const pods = r.pods;
  if (pods) {
    rows.push(
      `| ${n(pods.count)} pods created through the API (${n(pods.injected)} injected by the webhook) | ${s(pods.createMs)} (${((pods.count * 1000) / pods.createMs).toFixed(0)}/s) |`,
      `| → every policy counts its ${r.options.podsPerPolicy} pods (selectedPods = injectedPods) | ${s(pods.countedMs)} after the first create |`,
      `| webhook as the API server called it during those creates (operator's histogram), p99 | ≤ ${(pods.serverP99Le * 1000).toFixed(0)} ms bucket (${n(pods.serverCount)} reviews) |`,
      `| one stored pod / one managed ConfigMap as JSON (of which managedFields) | ${n(pods.sizes.pod.bytes)} (${n(pods.sizes.pod.managedFieldsBytes)}) / ${n(pods.sizes.configMap.bytes)} (${n(pods.sizes.configMap.managedFieldsBytes)}) bytes |`,
    );
  }
  const l = r.latencies;
  rows.push(
    `| webhook p50 / p90 / max (direct, after the pods) | ${l.p50.toFixed(2)} / ${l.p90.toFixed(2)} / ${l.max.toFixed(2)} ms |`,
    `| restart (second process, same cluster): start-up until quiet / its writes | ${s(r.restart.ms)} / ${n(total(r.restart.writes))} |`,
    `| the resync (period ${r.resync.period}): its first reconcile to its last activity | ${s(r.resync.ms)} |`,
    memoryRow("first process (creates everything)", r.memory.first),
    memoryRow("restarted process (lists everything at start)", r.memory.restarted),
  );
  return rows;
}

function phaseTable(r: BenchResult): string {
  const lines = r.phases.map((p) => {
    const writes = p.writes
      .slice(0, 8)
      .map((w) => `${w.verb} ${w.resource} ${w.code}: ${n(w.count)}`)
      .join("; ");
    return `| ${p.name} | ${s(p.ms)} | ${p.cpu.operator.toFixed(1)} / ${p.cpu.apiServer.toFixed(1)} / ${p.cpu.etcd.toFixed(1)} | ${n(p.reconciles)} (${n(p.requeues)}) | ${mib(p.rssBytes)} / ${mib(p.liveHeapBytes)} | ${n(total(p.writes))} | ${writes || "none"} |`;
  });
  return [
    "| phase | wall | CPU s: operator / kube-apiserver / etcd | reconciles (of which requeues) | operator RSS / live heap (after a full GC) at the end | operator writes | by verb, resource, code |",
    "|---|---:|---|---:|---|---:|---|",
    ...lines,
  ].join("\n");
}

function whatIfNote(o: BenchOptions): string {
  const changes = [
    ...(o.operatorNodeFlags.length > 0 ? [`the operator run with \`${o.operatorNodeFlags.join(" ")}\``] : []),
    ...(o.operatorEnv.length > 0 ? [`its environment set \`${o.operatorEnv.join(" ")}\``] : []),
  ];
  return changes.length > 0
    ? `\n**What-if run** (${changes.join("; ")}): not today's operator's figures.\n`
    : "";
}

export function renderSection(r: BenchResult): string {
  const o = r.options;
  return `## Operator benchmark

Command: \`${r.command}\`, run ${r.date} on ${r.machine}.
${whatIfNote(o)}
How: a local kube-apiserver + etcd (testkit; no kubelet, so pods stay Pending) and the operator as its
own process (its image's bundle of the tsc build, \`node operator/dist/bundle/apicache-operator.mjs\`, NODE_ENV=production, NODE_OPTIONS as the chart
sets them with its default memory limit: \`${r.nodeOptions ?? "none"}\`, leader election on,
every other flag at its default (\`--workers ${WORKERS}\`), log level info), all on the same cores: above the core count, the load average says the
figures measure contention as much as the operator. Policy i (in namespace i mod ${o.namespaces}) selects
\`app=api-i\`; ${o.podsPerPolicy} pods per policy are created through the API, 32 at a time, so the API
server calls the operator's webhook for each. A first operator process (\`--resync-period=${o.resyncPeriod}\`)
sees all this; it is then stopped and a second one started on the same cluster
(\`--resync-period=${r.resync.period}\`, long enough for its start-up sync to end first): its start-up
sync, then its first periodic resync, run with nothing changed. Webhook latency: a load client in its
own process, keep-alive HTTPS on loopback, AdmissionReviews of a pod that gets the sidecar. Writes:
the API server's own \`apiserver_request_total\` (POST/PUT/PATCH/APPLY/DELETE of what only the operator
writes: ConfigMaps, Roles, RoleBindings, Secrets, Events, CachePolicy status, the webhook
configuration), diffed around each phase. Memory: \`VmHWM\`/\`VmRSS\` of /proc/<pid>/status; the V8
heap from \`process.memoryUsage()\`, written by operator/bench/memory-probe.mjs (\`--import\`ed into
the operator), "live" after a full GC it runs at the end of each phase.

| measurement | result | target | met |
|---|---|---|---|
${headlineRows(r).join("\n")}

| detail | measured |
|---|---|
${detailRows(r).join("\n")}

${phaseTable(r)}
${r.resync.note ? `\nNote: ${r.resync.note}\n` : ""}`;
}

/** Replaces the "## Operator benchmark" section (up to the next "## " heading), or appends it. */
export function writeSection(results: URL, text: string): void {
  const current = existsSync(results) ? readFileSync(results, "utf8") : "# Benchmark results\n";
  const start = current.indexOf("## Operator benchmark");
  if (start < 0) {
    writeFileSync(results, `${current.trimEnd()}\n\n${text}`);
    return;
  }
  const rest = current.slice(start + 3);
  const end = rest.search(/^## /m);
  const after = end < 0 ? "" : rest.slice(end);
  writeFileSync(results, `${current.slice(0, start)}${text.trimEnd()}\n${after ? `\n${after}` : ""}`);
}
