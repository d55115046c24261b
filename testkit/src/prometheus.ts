// A real Prometheus (the Debian `prometheus` binary) for the monitoring tests and the load harness's
// dashboard check: started on a free loopback port with a temp config and rule file, queried through its
// HTTP API, always stopped.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@apicache/testkit/ports";
import { type Spawned, spawnTracked } from "@apicache/testkit/processes";
import { waitFor } from "@apicache/testkit/wait";
import { stringify } from "yaml";

export interface ScrapeTarget {
  readonly job: string;
  /** host:port */
  readonly target: string;
  /** Target labels, as a PodMonitor would add them (namespace, pod). */
  readonly labels: Readonly<Record<string, string>>;
}

export interface PrometheusOptions {
  readonly targets: readonly ScrapeTarget[];
  readonly rules: string;
  /** Scrape and rule evaluation interval (default 1s). */
  readonly interval?: string;
}

export interface PromSample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

export interface PromAlert {
  readonly labels: Record<string, string>;
  readonly state: "pending" | "firing";
}

export interface Prometheus {
  readonly url: string;
  /** An instant query, at `atSeconds` (Unix time, may be fractional) or now. */
  query(expr: string, atSeconds?: number): Promise<PromSample[]>;
  alerts(): Promise<PromAlert[]>;
  output(): string;
  stop(): Promise<void>;
}

interface ApiResponse<T> {
  status: "success" | "error";
  data: T;
  error?: string;
  errorType?: string;
}

async function api<T>(url: string): Promise<T> {
  const response = await fetch(url);
  const body = (await response.json()) as ApiResponse<T>;
  if (body.status !== "success") throw new Error(`prometheus ${body.errorType}: ${body.error} (${url})`);
  return body.data;
}

export async function startPrometheus(options: PrometheusOptions): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), "apicache-prometheus-"));
  const interval = options.interval ?? "1s";
  writeFileSync(join(dir, "rules.yaml"), options.rules);
  const config = {
    global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
    rule_files: [join(dir, "rules.yaml")],
    scrape_configs: options.targets.map((t) => ({
      job_name: t.job,
      static_configs: [{ targets: [t.target], labels: t.labels }],
    })),
  };
  writeFileSync(join(dir, "prometheus.yml"), stringify(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let process: Spawned | undefined;
  try {
    process = spawnTracked("prometheus", [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ]);
    const started = process;
    await waitFor(
      `prometheus to be ready on ${url}`,
      async () => {
        if (started.child.exitCode !== null) throw new Error(`prometheus exited: ${started.output()}`);
        return (await fetch(`${url}/-/ready`)).ok;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  } catch (error) {
    await process?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const running = process;
  return {
    url,
    query: async (expr, atSeconds) => {
      const at = atSeconds === undefined ? "" : `&time=${atSeconds.toFixed(3)}`;
      const data = await api<{ resultType: string; result: PromSample[] }>(
        `${url}/api/v1/query?query=${encodeURIComponent(expr)}${at}`,
      );
      return data.result;
    },
    alerts: async () => (await api<{ alerts: PromAlert[] }>(`${url}/api/v1/alerts`)).alerts,
    output: () => running.output(),
    stop: async () => {
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
