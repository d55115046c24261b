import { waitFor } from "@apicache/testkit/wait";
import type { AlertRecorder } from "./fault-alerts.js";
import type { FaultLoad, WindowSummary } from "./fault-load.js";
import type { FaultRow } from "./fault-table.js";

/**
 * One fault under the running load: wait until its alert is quiet, inject it, hold it until its alert
 * is pending (at least `minHoldMs`, at most `maxHoldMs`), clear it, then measure recovery: the first
 * cache hit on an entry the upstream made after the fault ended. Every request the load sent since the
 * previous row (`from`) up to the end of recovery is judged in this row, so rows partition the run.
 */
export interface FaultResult {
  readonly id: string;
  /** The row's stretch of the run (Date.now()). */
  readonly from: number;
  readonly to: number;
  readonly summary: WindowSummary;
  readonly expectedAlert: string | undefined;
  readonly alerts: readonly string[];
  readonly faultMs: number;
  /** From the fault's end to the first fresh hit; undefined: none within the bound + 10 s. */
  readonly recoverMs: number | undefined;
  readonly note?: string;
}

export interface FaultSteps {
  inject(): Promise<void>;
  clear(): Promise<void>;
  readonly minHoldMs?: number;
  readonly maxHoldMs?: number;
}

export interface FaultContext {
  readonly load: FaultLoad;
  readonly alerts: AlertRecorder;
}

export async function runFault(
  context: FaultContext,
  row: FaultRow,
  from: number,
  steps: FaultSteps,
): Promise<{ result: FaultResult; end: number }> {
  const { load, alerts } = context;
  const expected = row.alert;
  if (expected)
    await waitFor(`${expected} to be quiet before ${row.id}`, () => !alerts.activeNow(expected), {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
  const started = Date.now();
  await steps.inject();
  const minHold = steps.minHoldMs ?? 3_000;
  await waitFor(
    `${row.id}: ${expected ?? "the minimum hold"}`,
    () =>
      Date.now() - started >= minHold &&
      (expected === undefined || alerts.raisedBetween(started, Date.now()).includes(expected)),
    { timeoutMs: steps.maxHoldMs ?? 20_000, intervalMs: 100 },
  ).catch(() => undefined);
  const ended = Date.now();
  await steps.clear();
  const recovered = await waitFor(`${row.id}: a fresh hit`, () => load.firstFreshHit(ended), {
    timeoutMs: row.recoverWithinMs + 10_000,
    intervalMs: 50,
  }).catch(() => undefined);
  if (expected)
    await waitFor(
      `${row.id}: ${expected} pending`,
      () => alerts.raisedBetween(started, Date.now()).includes(expected),
      { timeoutMs: 10_000, intervalMs: 100 },
    ).catch(() => undefined);
  const end = Math.max(Date.now(), (recovered ?? 0) + 1);
  return {
    end,
    result: {
      id: row.id,
      from,
      to: end,
      summary: load.summarise(from, end),
      expectedAlert: expected,
      alerts: alerts.raisedBetween(started, end),
      faultMs: ended - started,
      recoverMs: recovered === undefined ? undefined : recovered - ended,
    },
  };
}

const pad = (text: string, width: number) => text.padEnd(width);

/** The printed table: one row per fault (and per steady stretch between phases). */
export function renderResults(results: readonly FaultResult[]): string {
  const header = [
    pad("fault", 24),
    pad("requests", 9),
    pad("hits", 6),
    pad("cache-err", 10),
    pad("upstr-err", 10),
    pad("wrong/x-user", 13),
    pad("stale", 6),
    pad("fault ms", 9),
    pad("recover ms", 11),
    "alerts raised (pending or firing; `for` not waited; windows shortened, ADR 0021)",
  ].join(" ");
  const lines = results.map((r) => {
    const s = r.summary;
    const alerts = r.alerts.map((a) => (a === r.expectedAlert ? `${a} (expected)` : a));
    const missing =
      r.expectedAlert && !r.alerts.includes(r.expectedAlert) ? [`MISSING ${r.expectedAlert}`] : [];
    return [
      pad(r.id, 24),
      pad(String(s.requests), 9),
      pad(String(s.hits), 6),
      pad(String(s.cacheErrors.length), 10),
      pad(String(s.upstreamErrors), 10),
      pad(`${s.wrong.length}/${s.crossUser.length}`, 13),
      pad(String(s.stale.length), 6),
      pad(r.faultMs ? String(r.faultMs) : "-", 9),
      pad(r.recoverMs === undefined ? (r.faultMs ? "NONE" : "-") : String(r.recoverMs), 11),
      [...alerts, ...missing].join(", ") || (r.expectedAlert ? "" : "none (none expected)"),
    ].join(" ");
  });
  return [header, ...lines].join("\n");
}

/** The sidecars' warning and error log lines in [from, to), counted by message (what the cache said). */
export function logNotes(logs: readonly Record<string, unknown>[], from: number, to: number): string {
  const counts = new Map<string, number>();
  for (const line of logs) {
    const at = Date.parse(String(line.time));
    if (!["warn", "error", "fatal"].includes(String(line.level)) || !(at >= from && at < to)) continue;
    const what = `${line.code ? `${line.code}: ` : ""}${String(line.msg).slice(0, 90)}`;
    counts.set(what, (counts.get(what) ?? 0) + 1);
  }
  return [...counts].map(([what, n]) => `${n}× ${what}`).join("; ");
}
