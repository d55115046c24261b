import { waitFor } from "../../testkit/src/wait.js";
import type { OperatorProcess } from "./operator-process.js";
import { sumOf } from "./prom-text.js";
import type { Progress } from "./scale-phases.js";

/**
 * The operator's activity, from its own metrics: reconciles done and keys queued. "Quiet" is no
 * reconcile and an empty queue (delayed keys included) for a while; a resync is the reconcile count
 * rising by one per policy with nothing else going on.
 */
export interface Activity {
  readonly reconciles: number;
  readonly depth: number;
}

export async function activity(operator: OperatorProcess): Promise<Activity> {
  const samples = await operator.scrape();
  return {
    reconciles: sumOf(samples, "apicache_operator_reconcile_total"),
    depth: sumOf(samples, "apicache_operator_queue_depth"),
  };
}

/** Resolves with the reconcile count once nothing has happened for `quietMs`. */
export async function waitForQuiet(
  operator: OperatorProcess,
  options: { quietMs: number; timeoutMs: number; progress: Progress },
): Promise<Activity> {
  let last: Activity | undefined;
  let since = Date.now();
  return waitFor(
    `the operator to be idle for ${options.quietMs} ms`,
    async () => {
      const now = await activity(operator);
      options.progress.tick(`settling: ${now.reconciles} reconciles so far, ${now.depth} queued`);
      if (now.depth > 0 || now.reconciles !== last?.reconciles) {
        last = now;
        since = Date.now();
        return undefined;
      }
      return Date.now() - since >= options.quietMs ? now : undefined;
    },
    { timeoutMs: options.timeoutMs, intervalMs: 250 },
  );
}

/**
 * Waits for the periodic resync (no change anywhere, so nothing else reconciles): until `policies`
 * more reconciles than `from` were done and the operator is quiet again. Returns when the first of
 * them was seen and when the last activity was, in Date.now() terms.
 */
export async function waitForResync(
  operator: OperatorProcess,
  options: { from: Activity; policies: number; timeoutMs: number; quietMs: number; progress: Progress },
): Promise<{ firstMs: number; lastMs: number; reconciles: number }> {
  let firstMs: number | undefined;
  let lastMs = Date.now();
  let last = options.from;
  return waitFor(
    "one resync of every policy",
    async () => {
      const now = await activity(operator);
      const done = now.reconciles - options.from.reconciles;
      if (done > 0 && firstMs === undefined) firstMs = Date.now();
      if (now.reconciles !== last.reconciles || now.depth > 0) lastMs = Date.now();
      last = now;
      options.progress.tick(
        firstMs === undefined
          ? "waiting for the resync timer"
          : `resync: ${done}/${options.policies} reconciled, ${now.depth} queued`,
      );
      const quiet = Date.now() - lastMs >= options.quietMs;
      return done >= options.policies && quiet && firstMs !== undefined
        ? { firstMs, lastMs, reconciles: done }
        : undefined;
    },
    { timeoutMs: options.timeoutMs, intervalMs: 250 },
  );
}
