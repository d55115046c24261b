import { randomUUID } from "node:crypto";
import { constants, PerformanceObserver } from "node:perf_hooks";
import { getHeapStatistics } from "node:v8";

/**
 * For in-process benchmarks: a live heap of a realistic size and shape, and what the collector did.
 * growLiveHeap keeps objects shaped like what the operator's informers hold (slim pods with their
 * labels, a route of a parsed policy) until the heap in use reaches `targetMiB`; the caller keeps the
 * array alive for as long as it wants them marked.
 */
export function growLiveHeap(targetMiB: number): readonly unknown[] {
  const held: unknown[] = [];
  const target = targetMiB * 1024 * 1024;
  for (let i = 0; getHeapStatistics().used_heap_size < target; i++) held.push(cachedObject(i));
  return held;
}

function cachedObject(i: number) {
  return {
    metadata: {
      name: `api-${i}-7d9f${i.toString(36)}`,
      namespace: `bench-${i % 50}`,
      uid: randomUUID(),
      resourceVersion: String(100_000 + i),
      labels: { app: `api-${i}`, "pod-template-hash": `7d9f${i.toString(36)}` },
      annotations: { "apicache.io/status": `{"configHash":"${randomUUID()}"}` },
    },
    spec: {
      containers: [{ name: "api", ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }] }],
      serviceAccountName: `sa-${i % 7}`,
      routes: [{ name: "slots", path: `/api/v2/items/${i}/:id`, ttl: 60, tags: [`item:${i}`] }],
    },
    status: { phase: "Pending" },
  };
}

/**
 * The collector's pauses as perf_hooks reports them: scavenges and the final pause of each full
 * (mark-compact) collection. Incremental marking steps between them are not reported here; the
 * event loop's delay shows them.
 */
export class GcPauses {
  private pauses: { readonly major: boolean; readonly ms: number }[] = [];
  private readonly observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as { readonly detail?: { readonly kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR || kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        this.pauses.push({ major: kind === constants.NODE_PERFORMANCE_GC_MAJOR, ms: entry.duration });
      }
    }
  });

  constructor() {
    this.observer.observe({ entryTypes: ["gc"] });
  }

  reset(): void {
    this.pauses = [];
  }

  stop(): void {
    this.observer.disconnect();
  }

  summary(): string {
    const of = (major: boolean) => {
      const ms = this.pauses.filter((p) => p.major === major).map((p) => p.ms);
      return `${ms.length} (longest ${Math.max(0, ...ms).toFixed(1)} ms)`;
    };
    return `scavenges ${of(false)}, mark-compacts ${of(true)}`;
  }
}
