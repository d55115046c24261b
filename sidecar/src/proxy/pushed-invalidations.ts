import type { CoherenceEvents, FlushReason, PushedInvalidation } from "../store/l1-coherence.js";
import { l1CoherenceObserver, type SidecarMetrics } from "../telemetry/metrics.js";
import type { Coalescer } from "./coalescer.js";

/**
 * What another pod's invalidation, pushed by Redis (ADR 0018), does besides dropping L1 copies: a
 * changed tag generation (a write's tag or path invalidation) detaches the in-flight fills carrying
 * that tag, as a local invalidation does, so a request that arrives after the write never joins a
 * fetch that started before it; a flush, or the channel going down or up, detaches every fill, and
 * while it is down no request joins another's fetch (the coalescer is isolated). Entry keys are not
 * detached on: every fill by any pod changes its key, and detaching on that would refetch what
 * another pod just stored. And the metrics.
 */
export function coherenceEvents(
  policy: string,
  metrics: SidecarMetrics,
  coalescer: Coalescer<unknown>,
): CoherenceEvents {
  const observe = l1CoherenceObserver(metrics, policy);
  return {
    onInvalidation(invalidation: PushedInvalidation, dropped: number): void {
      if (invalidation.kind === "names" && invalidation.tags.length > 0) {
        coalescer.detach(new Set(), new Set(invalidation.tags));
      }
      observe.onInvalidation(invalidation, dropped);
    },
    onFlush(reason: FlushReason, dropped: number): void {
      if (reason === "flush_message") coalescer.detachAll();
      observe.onFlush(reason, dropped);
    },
    onLeaseRefusal(): void {
      observe.onLeaseRefusal();
    },
    onChannel(up: boolean): void {
      coalescer.detachAll();
      coalescer.isolate(!up);
      observe.onChannel(up);
    },
  };
}
