import { VersionApi } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { certSource } from "./certs/cert-source.js";
import { systemClock } from "./clock.js";
import type { Config } from "./config.js";
import { detectNativeSidecar } from "./inject/native-sidecar.js";
import { limitRangeInformer, policyInformer } from "./kube/informers.js";
import { leadership } from "./leader/leadership.js";
import type { OperatorHandle } from "./operator-handle.js";
import { PolicyIndex } from "./policy/policy-index.js";
import { notReadyReason } from "./readiness.js";
import { leaderTerms } from "./reconcile/term-controller.js";
import { connect } from "./runtime.js";
import { startMetricsServer } from "./server/metrics-server.js";
import { admissionDeps } from "./webhook/admission-deps.js";
import { webhookRegistrar } from "./webhook/registrar.js";
import { lingerForEndpoints, serveWebhookWhenReady } from "./webhook/serve.js";

export type { Config } from "./config.js";
export { parseConfig } from "./config.js";
export type { OperatorHandle } from "./operator-handle.js";

/**
 * Composes the operator: the CachePolicy and LimitRange informers and the webhook on every replica;
 * the controller, certificate upkeep and webhook registration on the leader. Resolves once the
 * listeners are up.
 */
export async function startOperator(
  config: Readonly<Config>,
  options: { log?: Logger } = {},
): Promise<OperatorHandle> {
  const runtime = connect(config, options.log);
  const { log, metrics } = runtime;
  const versionApi = runtime.kubeConfig.makeApiClient(VersionApi);
  const nativeSidecar = await detectNativeSidecar(config.nativeSidecar, () => versionApi.getCode(), log);
  const policies = policyInformer(runtime.informers);
  const limitRanges = limitRangeInformer(runtime.informers);
  const index = new PolicyIndex((namespace) => policies.list(namespace));
  void policies.start();
  void limitRanges.start();
  let finish: (result: { code: number; reason: string }) => void = () => undefined;
  const done = new Promise<{ code: number; reason: string }>((resolve) => (finish = resolve));
  let stopping = false;
  // Every replica sees the installation's anchor once at start, so a later 404 reads as "gone".
  await runtime.owner
    .lookup()
    .catch((err: unknown) => log.warn({ err }, "cannot read the MutatingWebhookConfiguration yet"));
  const register = webhookRegistrar(config, runtime);
  const certs = certSource(config, { ...runtime, clock: systemClock, applyWebhookConfiguration: register });
  const terms = leaderTerms(runtime, { policies, index }, certs, () => stopping);
  const leader = leadership(runtime, terms, (reason) => finish({ code: 1, reason }));
  const deps = admissionDeps(config, index, nativeSidecar, (namespace) => limitRanges.list(namespace));
  const webhook = serveWebhookWhenReady(runtime, certs.holder, deps, (reason) => finish({ code: 1, reason }));
  const metricsServer = await startMetricsServer(config.metricsListen, metrics, {
    live: () => (leader.lost() ? "leadership lost" : undefined),
    ready: () =>
      notReadyReason({
        stopping: () => stopping,
        policiesSynced: () => policies.synced,
        limitRangesSynced: () => limitRanges.synced,
        certificateLoaded: () => certs.holder.current() !== undefined,
        webhookListening: () => webhook() !== undefined,
        startFailure: leader.startFailure,
        controllerSynced: () => !leader.isLeader() || terms.current().synced,
      }),
  });
  leader.start();
  return {
    webhookPort: () => webhook()?.port,
    metricsPort: metricsServer.port,
    isLeader: leader.isLeader,
    nativeSidecar,
    metrics,
    get controller() {
      return terms.current();
    },
    done,
    stop: async ({ release = true } = {}) => {
      // Not ready at once. While kube-proxies and the API server drop this pod from the webhook's
      // endpoints (the linger), the controller stops (reconciles in flight finish) and then the Lease
      // is handed over; an election round in flight finishes
      // first and writes nothing after. The webhook closes only after both.
      stopping = true;
      const linger = webhook() ? lingerForEndpoints(config.shutdownDelayMs, log) : undefined;
      await leader.stop(release);
      await certs.stop();
      await terms.current().stop();
      await linger;
      await Promise.all([webhook()?.close(), metricsServer.close(), policies.stop(), limitRanges.stop()]);
      finish({ code: 0, reason: "stopped" });
    },
  };
}
