import type { ProbeResult } from "./capacity-probe.js";
import type { CapacityRun } from "./capacity-run.js";
import type { SearchResult } from "./capacity-search.js";
import { type DbWork, statementReduction } from "./db-stats.js";
import { compareScenario, improvement } from "./stats.js";
import { formatMs } from "./table.js";

/** The tables of `make bench-capacity`, pure (capacity-report.test.ts renders fakes). */

/** The booking platform's own per-endpoint averages (ORIGIN.md), before and after its cache. */
export const PLATFORM_TABLE: Readonly<
  Record<string, { label: string; before: string; after: string; gain: string }>
> = {
  slots: { label: "Available Slots", before: "250 ms", after: "85 ms", gain: "66%" },
  analytics: { label: "Business Analytics", before: "1.8 s", after: "650 ms", gain: "64%" },
  dashboard: { label: "Dashboard Data", before: "2.1 s", after: "800 ms", gain: "62%" },
  profile: { label: "User Profile", before: "180 ms", after: "70 ms", gain: "61%" },
  catalog: { label: "Service Catalog", before: "120 ms", after: "25 ms", gain: "79%" },
};

const pct = (value: number) => (Number.isFinite(value) ? `${value.toFixed(1)}%` : "–");
const rate = (value: number) => `${Number(value.toFixed(2))}`;
const cores = (value: number | undefined) =>
  value !== undefined && Number.isFinite(value) ? `${(value * 100).toFixed(0)}% of a core` : "–";

/** The capacity ratio, sidecar over direct; "≥" when the sidecar's search hit the top of its ladder. */
export function capacityRatio(run: Pick<CapacityRun, "direct" | "sidecar">): string {
  if (!(run.direct.capacity > 0)) return "– (the direct path held no rate)";
  if (run.direct.capped) return "– (the direct path held the top of its ladder: raise --max-rate)";
  const ratio = run.sidecar.capacity / run.direct.capacity;
  return `${run.sidecar.capped ? "≥ " : ""}${ratio.toFixed(1)}×`;
}

function atCapacity(search: SearchResult<ProbeResult>): ProbeResult | undefined {
  return search.probes.find((p) => p.rate === search.capacity && p.result.pass)?.result;
}

function probeList(search: SearchResult<ProbeResult>): string {
  return search.probes.map((p) => `${rate(p.rate)} ${p.result.pass ? "✓" : "✗"}`).join(", ");
}

export function renderCapacityTable(run: CapacityRun): string {
  const row = (label: string, search: SearchResult<ProbeResult>) => {
    const at = atCapacity(search);
    return `| ${label} | ${search.capped ? "≥ " : ""}${rate(search.capacity)} | ${formatMs(at?.p50 ?? Number.NaN)} | ${formatMs(at?.p95 ?? Number.NaN)} | ${formatMs(at?.p99 ?? Number.NaN)} | ${at ? `${at.failed}${at.conflicts > 0 ? ` (+${at.conflicts} × 409)` : ""}` : "–"} | ${probeList(search)} |`;
  };
  return [
    "| path | capacity (requests/s) | p50 at capacity | p95 at capacity | p99 at capacity | failed | probes (requests/s: ✓ held, ✗ missed) |",
    "|---|---:|---:|---:|---:|---:|---|",
    row("direct", run.direct),
    row("through the sidecar", run.sidecar),
    "",
    `**Capacity ratio: ${capacityRatio(run)}** (p95 SLO ${run.sloMs} ms, no failed response, ${run.windowSeconds} s windows after ${run.warmupSeconds} s of warm-up).`,
  ].join("\n");
}

/** The sidecar path at the direct path's capacity: its latency and CPU next to the direct path's. */
export function renderAtDirectCapacity(run: CapacityRun): string {
  const direct = atCapacity(run.direct);
  const sidecar = run.sidecar.probes.find((p) => p.rate === run.direct.capacity)?.result;
  if (!direct || !sidecar) return "No probe of the sidecar path ran at the direct path's capacity.";
  const row = (label: string, p: ProbeResult, process: string) =>
    `| ${label} | ${formatMs(p.p50)} | ${formatMs(p.p95)} | ${formatMs(p.p99)} | ${process} | ${cores(p.cores.api)} |`;
  return [
    `At the direct path's capacity, ${rate(run.direct.capacity)} requests/s, both paths:`,
    "",
    "| path | p50 | p95 | p99 | sidecar CPU | demo API CPU |",
    "|---|---:|---:|---:|---:|---:|",
    row("direct", direct, "–"),
    row("through the sidecar", sidecar, cores(sidecar.cores.sidecar)),
  ].join("\n");
}

/** Per endpoint type, mean and p95 before/after at equal load, in the platform table's shape. */
export function renderOriginalTable(run: CapacityRun): string {
  const { direct, sidecar } = run.equalLoad;
  const comparison = compareScenario(run.scenario.name, direct.samples, sidecar.samples);
  const rows = comparison.byEndpoint.map((c) => {
    const platform = PLATFORM_TABLE[c.label];
    return `| ${platform?.label ?? c.label} | ${formatMs(c.before.mean)} | ${formatMs(c.after.mean)} | ${pct(c.meanImprovement)} faster | ${formatMs(c.before.p95)} | ${formatMs(c.after.p95)} | ${c.before.n} / ${c.after.n} | ${platform ? `${platform.before} → ${platform.after} (${platform.gain} faster)` : "–"} |`;
  });
  const r = comparison.reads;
  rows.push(
    `| **all reads** | ${formatMs(r.before.mean)} | ${formatMs(r.after.mean)} | ${pct(r.meanImprovement)} faster | ${formatMs(r.before.p95)} | ${formatMs(r.after.p95)} | ${r.before.n} / ${r.after.n} | 35–65% faster |`,
  );
  return [
    `Equal load: ${rate(run.equalLoad.rate)} requests/s on both paths (${Math.round(100 * (run.equalLoad.rate / run.direct.capacity))}% of the direct path's capacity), ${Math.round(direct.n / run.equalLoad.rate)} s each, the same request stream.`,
    "",
    "| Endpoint Type | Before (avg) | After (avg) | Improvement | p95 before | p95 after | requests (direct / sidecar) | the platform's table (avg) |",
    "|---|---:|---:|---:|---:|---:|---:|---|",
    ...rows,
  ].join("\n");
}

/** The demo API's SQL statements at equal load, directly and behind the sidecar. */
export function renderDbWork(
  direct: DbWork,
  sidecar: DbWork,
  directCores?: number,
  sidecarCores?: number,
): string {
  const row = (label: string, w: DbWork, cpu: number | undefined) =>
    `| ${label} | ${w.statementsPerSecond.toFixed(1)} | ${w.statementsPerRequest.toFixed(2)} | ${w.apiRequests} | ${formatMs(w.queryMillis / Math.max(1, w.apiRequests))} | ${cores(cpu)} |`;
  const saved = improvement(direct.statementsPerSecond, sidecar.statementsPerSecond);
  return [
    "| path | SQL statements/s | statements per request sent | requests the API answered | query time per answered request | demo API CPU |",
    "|---|---:|---:|---:|---:|---:|",
    row("direct", direct, directCores),
    row("through the sidecar", sidecar, sidecarCores),
    "",
    `**Database work saved at equal load: ${pct(saved)} fewer SQL statements per second** (${pct(statementReduction(direct, sidecar))} per request; the platform reported 60–80% fewer queries for cached operations).`,
  ].join("\n");
}

export function renderEqualLoadDbWork(run: CapacityRun): string {
  const { direct, sidecar } = run.equalLoad;
  return renderDbWork(direct.db, sidecar.db, direct.cores.api, sidecar.cores.api);
}
