import type { ControlPlane } from "../../testkit/src/kube/control-plane.js";
import { isOperatorWrite, requestsBetween, scrapeRequests } from "./apiserver-requests.js";
import type { BenchApi } from "./bench-api.js";
import type { CpuSeconds, PhaseFigures } from "./bench-section.js";
import { type OperatorProcess, readCpuSeconds } from "./operator-process.js";
import type { Window } from "./profile-summary.js";
import { sumOf } from "./prom-text.js";

/**
 * Records each phase of a run: wall time, the operator's writes (API server metrics diffed around
 * it), CPU seconds of operator, kube-apiserver and etcd, the operator's RSS and live heap (after a
 * full GC) at its end, and
 * its CLOCK_MONOTONIC window (to slice the operator's CPU profile by phase).
 */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

export class Phases {
  readonly figures: PhaseFigures[] = [];
  readonly windows: Window[] = [];
  /** The operator process the phases are about (the benchmark restarts it once). */
  operator: OperatorProcess | undefined;

  constructor(
    private readonly api: BenchApi,
    private readonly plane: ControlPlane | undefined,
  ) {}

  private cpu(): CpuSeconds {
    return {
      operator: readCpuSeconds(this.operator?.pid),
      apiServer: readCpuSeconds(this.plane?.pids.apiServer),
      etcd: readCpuSeconds(this.plane?.pids.etcd),
    };
  }

  /** Reconciles so far: all, and those that only re-queued the key (pod cache not synced yet). */
  private async reconciles(): Promise<{ all: number; requeues: number }> {
    const samples = await this.operator?.scrape().catch(() => undefined);
    if (!samples) return { all: 0, requeues: 0 };
    const total = (where?: (labels: Readonly<Record<string, string>>) => boolean) =>
      sumOf(samples, "apicache_operator_reconcile_total", where);
    return { all: total(), requeues: total((labels) => labels.result === "requeue") };
  }

  /** Runs `body` as the phase `name`; a body that starts the operator sets `operator` first thing. */
  async run<T>(name: string, body: () => Promise<T>): Promise<T> {
    console.log(`>> ${name}`);
    const [requests, reconciles] = [await scrapeRequests(this.api), await this.reconciles()];
    const [cpu, startedMs, startUs, pid] = [this.cpu(), Date.now(), monotonicUs(), this.operator?.pid];
    const result = await body();
    const [after, cpuAfter, reconcilesAfter] = [
      await scrapeRequests(this.api),
      this.cpu(),
      await this.reconciles(),
    ];
    const live = await this.operator?.liveHeap();
    this.windows.push({ name, startUs, endUs: monotonicUs() });
    const samePid = pid === this.operator?.pid;
    this.figures.push({
      name,
      ms: Date.now() - startedMs,
      writes: requestsBetween(requests, after, isOperatorWrite),
      reconciles: reconcilesAfter.all - (samePid ? reconciles.all : 0),
      requeues: reconcilesAfter.requeues - (samePid ? reconciles.requeues : 0),
      cpu: {
        operator: cpuAfter.operator - (samePid ? cpu.operator : 0),
        apiServer: cpuAfter.apiServer - cpu.apiServer,
        etcd: cpuAfter.etcd - cpu.etcd,
      },
      rssBytes: this.operator?.memory().rssBytes ?? 0,
      liveHeapBytes: live?.heapUsed ?? 0,
    });
    return result;
  }
}
