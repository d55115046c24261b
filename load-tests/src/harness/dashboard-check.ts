import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Prometheus, startPrometheus } from "@apicache/testkit/prometheus";
import { waitFor } from "@apicache/testkit/wait";
import {
  type HarnessRun,
  HEADLINE_PANELS,
  judgePanels,
  type PanelReading,
  type PanelVerdict,
} from "./dashboard-compare.js";
import { type DashboardJson, panelQuery, resolveVariables } from "./dashboard-variables.js";

/**
 * The dashboard-vs-harness check of `make bench`: a real Prometheus scrapes one sidecar every second with
 * the shipped recording rules (monitoring/generated); after the measured run, each headline panel's query
 * from the shipped dashboard JSON, its variables resolved for the run's window, is evaluated at the
 * window's end and set against the harness's own figure (dashboard-compare.ts).
 */
export const DASHBOARD_FILE = "monitoring/generated/apicache-dashboard.json";
export const RULES_FILE = "monitoring/generated/apicache-rules.yaml";
const SCRAPE_SECONDS = 1;

export interface MeasuredWindow {
  /** What startWindow() resolved to. */
  readonly startMs: number;
  /** When the measured run's last response arrived. */
  readonly endMs: number;
}

export interface DashboardCheck {
  readonly verdicts: PanelVerdict[];
  /** The window the queries covered: from the measured run's start to the evaluation time. */
  readonly fromMs: number;
  readonly evaluatedAtMs: number;
}

export interface DashboardWatch {
  /**
   * Call with nothing in flight, right before the measured run: waits until Prometheus holds two scrapes
   * taken since (about a second), and resolves to the time of the later one. Every sample from a second
   * before it then carries the counters as they stand at the run's start: a time range that begins up to
   * a second early (Grafana's ranges are whole seconds) adds nothing from before the run.
   */
  startWindow(): Promise<number>;
  /** Evaluates the headline panels for `window` and judges them against the harness's figures. */
  check(window: MeasuredWindow, run: HarnessRun): Promise<DashboardCheck>;
  stop(): Promise<void>;
}

export interface DashboardWatchOptions {
  readonly repoRoot: string;
  /** The sidecar's admin listener (its /metrics). */
  readonly adminUrl: string;
  /** Target labels, as the PodMonitor adds them. */
  readonly namespace?: string;
  readonly pod?: string;
}

export async function watchDashboard(options: DashboardWatchOptions): Promise<DashboardWatch> {
  const dashboard = JSON.parse(readFileSync(join(options.repoRoot, DASHBOARD_FILE), "utf8")) as DashboardJson;
  const queries = HEADLINE_PANELS.map((p) => ({ panel: p, expr: panelQuery(dashboard, p.title) }));
  const prometheus = await startPrometheus({
    targets: [
      {
        job: "apicache-sidecar",
        target: new URL(options.adminUrl).host,
        labels: { namespace: options.namespace ?? "bench", pod: options.pod ?? "sidecar-0" },
      },
    ],
    rules: readFileSync(join(options.repoRoot, RULES_FILE), "utf8"),
    interval: `${SCRAPE_SECONDS}s`,
  });
  return {
    startWindow: async () => {
      const idleFromMs = Date.now();
      return scrapedAfter(prometheus, idleFromMs + SCRAPE_SECONDS * 1000);
    },
    check: async (window, run) => {
      // At least two scrapes after the first: increase() needs two samples in the range.
      const lastScrapeMs = Math.max(window.endMs, window.startMs + 2 * SCRAPE_SECONDS * 1000);
      const evaluatedAtMs = await settledAfter(prometheus, lastScrapeMs);
      // The smallest whole-second range that reaches back to the window's first scrape.
      const rangeSeconds = Math.ceil((evaluatedAtMs - window.startMs + 1) / 1000);
      const fromMs = evaluatedAtMs - rangeSeconds * 1000;
      const grafana = { fromMs, toMs: evaluatedAtMs, scrapeIntervalSeconds: SCRAPE_SECONDS };
      const readings: PanelReading[] = [];
      for (const { panel, expr } of queries) {
        const query = resolveVariables(expr, grafana);
        readings.push({
          title: panel.title,
          harnessFigure: panel.harnessFigure,
          dashboard: single(await prometheus.query(query, evaluatedAtMs / 1000), panel.title),
          harness: panel.harness(run),
          query,
        });
      }
      return { verdicts: judgePanels(readings), fromMs, evaluatedAtMs };
    },
    stop: () => prometheus.stop(),
  };
}

/** The newest sample time of `expr`'s series (ms), if any. */
async function latest(prometheus: Prometheus, expr: string): Promise<number | undefined> {
  const [sample] = await prometheus.query(`max(timestamp(${expr}))`);
  return sample === undefined ? undefined : Number(sample.value[1]) * 1000;
}

/** Resolves to the time of the first successful scrape of the sidecar taken at or after `atMs`. */
function scrapedAfter(prometheus: Prometheus, atMs: number): Promise<number> {
  return waitFor(
    "Prometheus to scrape the sidecar",
    async () => {
      // A plain selector: timestamp() of any other expression is the evaluation time, not the scrape's.
      const at = await latest(prometheus, 'up{job="apicache-sidecar"}');
      return at !== undefined && at >= atMs ? at : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
}

/**
 * Waits until Prometheus holds a scrape of the sidecar taken after `endMs` and every rule group has
 * been evaluated after that scrape; resolves to the latest of those evaluations, when every panel (raw
 * series and recorded) has the window's last requests.
 */
async function settledAfter(prometheus: Prometheus, endMs: number): Promise<number> {
  const scrapedMs = await scrapedAfter(prometheus, endMs);
  return waitFor(
    "Prometheus to evaluate the recording rules after that scrape",
    async () => {
      const response = await fetch(`${prometheus.url}/api/v1/rules?type=record`);
      const body = (await response.json()) as { data?: { groups?: { lastEvaluation?: string }[] } };
      const evaluated = (body.data?.groups ?? []).map((g) => Date.parse(g.lastEvaluation ?? ""));
      const ready = evaluated.length > 0 && evaluated.every((at) => at >= scrapedMs);
      return ready ? Math.max(...evaluated) : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
}

/** A headline stat shows one value (one policy here): its value, or undefined for "No data". */
function single(samples: readonly { value: [number, string] }[], title: string): number | undefined {
  if (samples.length > 1) throw new Error(`dashboard: panel "${title}" returned ${samples.length} series`);
  const value = samples[0] === undefined ? Number.NaN : Number(samples[0].value[1]);
  return Number.isFinite(value) ? value : undefined;
}
