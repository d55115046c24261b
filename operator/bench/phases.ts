import type { ControlPlane } from "../../testkit/src/kube/control-plane.js";
import { isOperatorWrite, requestsBetween, scrapeRequests } from "./apiserver-requests.js";
import type { BenchApi } from "./bench-api.js";
import type { CpuSeconds, PhaseFigures } from "./bench-section.js";
import { type OperatorProcess, readCpuSeconds } from "./operator-process.js";
import type { Window } from "./profile-summary.js";

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

  /** Runs `body` as the phase `name`; a body that starts the operator sets `operator` first thing. */
  async run<T>(name: string, body: () => Promise<T>): Promise<T> {
    console.log(`>> ${name}`);
    const requests = await scrapeRequests(this.api);
    const [cpu, startedMs, startUs, pid] = [this.cpu(), Date.now(), monotonicUs(), this.operator?.pid];
    const result = await body();
    const [after, cpuAfter] = [await scrapeRequests(this.api), this.cpu()];
    const live = await this.operator?.liveHeap();
    this.windows.push({ name, startUs, endUs: monotonicUs() });
    const samePid = pid === this.operator?.pid;
    this.figures.push({
      name,
      ms: Date.now() - startedMs,
      writes: requestsBetween(requests, after, isOperatorWrite),
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
