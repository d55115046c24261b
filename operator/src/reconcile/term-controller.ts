import type { Certs } from "../certs/cert-source.js";
import { systemClock } from "../clock.js";
import { abortableObjectsApi } from "../kube/abort.js";
import { ApiClusterWriter } from "../kube/api-writer.js";
import type { ResilientInformer } from "../kube/informer.js";
import type { PolicyObject } from "../kube/informers.js";
import type { Term } from "../leader/leadership.js";
import type { PolicyIndex } from "../policy/policy-index.js";
import type { Runtime } from "../runtime.js";
import { fencedWriter } from "./fenced-writer.js";
import { PolicyController } from "./policy-controller.js";
import { rateLimitedWriter, TokenBucket } from "./write-limit.js";

/**
 * A new PolicyController for one term of leadership (a controller does not restart): it reads the
 * shared CachePolicy informer and index, and writes only while `term` lasts — a reconcile in flight
 * when the term ends sends nothing more, and its requests in flight are aborted.
 */
export function termController(
  runtime: Runtime,
  shared: { readonly policies: ResilientInformer<PolicyObject>; readonly index: PolicyIndex },
  term: AbortSignal,
): PolicyController {
  const { config, log, metrics } = runtime;
  const apis = { ...runtime, objects: abortableObjectsApi(runtime.kubeConfig, term) };
  return new PolicyController({
    ...shared,
    informers: runtime.informers,
    writer: rateLimitedWriter(
      fencedWriter(new ApiClusterWriter(apis, config.identity, term), term),
      new TokenBucket(config.writeQps, config.writeBurst, systemClock),
    ),
    clock: systemClock,
    log,
    metrics,
    workers: config.workers,
    resyncPeriodMs: config.resyncPeriodMs,
  });
}

/**
 * What the leader runs in each term: certificate upkeep and webhook registration first, then a new
 * controller; stopped in the reverse order before the Lease is released. `current` is the latest
 * term's controller (a stopped placeholder before the first term).
 */
export function leaderTerms(
  runtime: Runtime,
  shared: { readonly policies: ResilientInformer<PolicyObject>; readonly index: PolicyIndex },
  certs: Pick<Certs, "lead" | "unlead">,
  stopping: () => boolean,
): Term & { readonly current: () => PolicyController } {
  let controller = termController(runtime, shared, AbortSignal.abort());
  return {
    current: () => controller,
    start: async (term) => {
      controller = termController(runtime, shared, term);
      await certs.lead();
      if (!stopping() && !term.aborted) await controller.start();
    },
    stop: async () => {
      await certs.unlead();
      await controller.stop();
    },
  };
}
