import {
  AdmissionregistrationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  KubernetesObjectApi,
  RbacAuthorizationV1Api,
  VersionApi,
  Watch,
} from "@kubernetes/client-node";
import { type Logger, pino } from "pino";
import type { Config } from "./config.js";
import { LEADER_START_DEADLINE_MS } from "./constants.js";
import { systemClock } from "./controller/clock.js";
import { fencedWriter } from "./controller/fenced-writer.js";
import { OPERATOR_ERROR_CODES, OperatorError } from "./errors.js";
import type { AdmissionDeps } from "./inject/admission.js";
import { supportsNativeSidecar } from "./inject/native-sidecar.js";
import { sidecarResourceSettings } from "./inject/sidecar-resources.js";
import { ApiClusterWriter } from "./kube/api-writer.js";
import { certSource } from "./kube/cert-source.js";
import { PolicyController } from "./kube/controller.js";
import { type InformerContext, limitRangeInformer, policyInformer } from "./kube/informers.js";
import { loadKubeConfig } from "./kube/kube-config.js";
import { ApiLeaseClient } from "./kube/lease-client.js";
import { ReleaseOwner } from "./kube/release-owner.js";
import { webhookRegistrar } from "./kube/webhook-registrar.js";
import { LeaderElector, LeaseConflictError } from "./leader/leader-elector.js";
import { PolicyIndex } from "./policy/policy-index.js";
import { renderConfig } from "./policy/render-config.js";
import { startMetricsServer } from "./server/metrics-server.js";
import type { CertHolder } from "./server/serving-certs.js";
import { startWebhookServer, type WebhookServer } from "./server/webhook-server.js";
import { createMetrics, type OperatorMetrics } from "./telemetry/metrics.js";

export type { Config } from "./config.js";
export { parseConfig } from "./config.js";

/**
 * Starts the operator: the shared CachePolicy informer and the webhook on every replica; the
 * controller, certificate issuance and webhook registration on the leader. Resolves once the
 * listeners are up. `done` resolves when the operator stops by itself (leadership lost: code 1).
 */
export interface OperatorHandle {
  readonly webhookPort: () => number | undefined;
  readonly metricsPort: number;
  readonly isLeader: () => boolean;
  readonly nativeSidecar: boolean;
  readonly metrics: OperatorMetrics;
  /** The current term's controller (a new one each time this replica starts leading). */
  readonly controller: PolicyController;
  readonly done: Promise<{ code: number; reason: string }>;
  /** Graceful stop: releases the lease (unless `release: false`, to simulate a crash). */
  stop(options?: { release?: boolean }): Promise<void>;
}

export interface StartOptions {
  readonly log?: Logger;
}

async function detectNativeSidecar(config: Config, versionApi: VersionApi, log: Logger): Promise<boolean> {
  if (config.nativeSidecar !== "auto") return config.nativeSidecar === "true";
  try {
    const version = await versionApi.getCode();
    const native = supportsNativeSidecar(version);
    log.info({ serverVersion: version.gitVersion, nativeSidecar: native }, "detected the API server version");
    return native;
  } catch (error) {
    log.warn({ err: error }, "cannot read the server version; injecting plain sidecar containers");
    return false;
  }
}

interface Runtime {
  readonly config: Readonly<Config>;
  readonly log: Logger;
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly objects: KubernetesObjectApi;
  readonly metrics: OperatorMetrics;
  readonly informers: InformerContext;
  /** Owns the Secret and Lease the operator creates, so `helm uninstall` removes them (ADR 0007). */
  readonly owner: ReleaseOwner;
}

function connect(config: Readonly<Config>, options: StartOptions): Runtime {
  const log =
    options.log ??
    pino({ level: config.logLevel, base: { component: "apicache-operator", identity: config.identity } });
  const kubeConfig = loadKubeConfig(config.kubeconfig);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const metrics = createMetrics();
  const informers: InformerContext = {
    core,
    custom,
    rbac: kubeConfig.makeApiClient(RbacAuthorizationV1Api),
    watch: new Watch(kubeConfig),
    clock: systemClock,
    log,
    onRestart: (resource) => metrics.informerRestarts.inc({ resource }),
  };
  const objects = KubernetesObjectApi.makeApiClient(kubeConfig);
  const admission = kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  const owner = new ReleaseOwner({
    name: config.webhookConfigurationName,
    read: () => admission.readMutatingWebhookConfiguration({ name: config.webhookConfigurationName }),
    clock: systemClock,
    log,
  });
  return { config, log, kubeConfig, core, custom, objects, metrics, informers, owner };
}

/** Starts the webhook listener as soon as a serving certificate is available. */
function serveWebhookWhenReady(
  runtime: Runtime,
  certs: CertHolder,
  deps: AdmissionDeps,
  onFatal: (reason: string) => void,
): () => WebhookServer | undefined {
  let webhook: WebhookServer | undefined;
  let starting = false;
  const start = () => {
    if (starting) return;
    starting = true;
    const { config, metrics, log } = runtime;
    startWebhookServer({ ...config.webhookListen, certs, deps: () => deps, metrics, log }).then(
      (server) => {
        webhook = server;
        log.info({ port: server.port }, "webhook listening");
      },
      (error: unknown) => {
        log.error({ err: error }, "webhook failed to start");
        onFatal((error as Error).message);
      },
    );
  };
  if (certs.current()) start();
  else certs.onChange(start);
  return () => webhook;
}

interface Leadership {
  readonly elector: LeaderElector | undefined;
  readonly isLeader: () => boolean;
  readonly lost: () => boolean;
  /** Why the last attempt to lead failed (coded), until leading starts. */
  readonly startFailure: () => OperatorError | undefined;
  readonly start: () => void;
  readonly stop: (release: boolean) => Promise<void>;
}

/** What the leader runs: started on acquiring the lease, stopped (awaited) before it is released. */
interface Term {
  readonly start: (signal: AbortSignal) => Promise<void>;
  readonly stop: () => Promise<void>;
}

function leadership(runtime: Runtime, term: Term, onLost: (reason: string) => void): Leadership {
  const { config, metrics, log, kubeConfig } = runtime;
  let leading = false;
  let lost = false;
  let startFailure: OperatorError | undefined;
  const begin = async (signal: AbortSignal) => {
    leading = true;
    metrics.leader.set(1);
    log.info({ identity: config.identity }, "leading: starting the controller");
    await term.start(signal);
    startFailure = undefined;
  };
  const end = async () => {
    leading = false;
    metrics.leader.set(0);
    await term.stop();
  };
  const elector = config.leaderElect
    ? new LeaderElector({
        identity: config.identity,
        leaseDurationMs: config.leaseDurationMs,
        renewDeadlineMs: config.renewDeadlineMs,
        retryPeriodMs: config.retryPeriodMs,
        clock: systemClock,
        client: new ApiLeaseClient(
          kubeConfig.makeApiClient(CoordinationV1Api),
          config.namespace,
          config.leaseName,
          runtime.owner,
        ),
        onStartedLeading: begin,
        stopLeading: end,
        startDeadlineMs: LEADER_START_DEADLINE_MS,
        onStartFailed: (cause) => {
          startFailure = new OperatorError(
            OPERATOR_ERROR_CODES.LEADER_START_FAILED,
            `${cause.message}; released the controller lease, retrying in ${config.retryPeriodMs} ms`,
            { cause },
          );
          log.error({ err: startFailure, code: startFailure.code }, "could not start leading");
        },
        onStoppedLeading: () => {
          lost = true;
          const error = new OperatorError(
            OPERATOR_ERROR_CODES.LEADERSHIP_LOST,
            "lost the controller lease; exiting so that another replica takes over (the Deployment restarts this one)",
          );
          log.error({ err: error }, "leadership lost");
          onLost(error.message);
        },
        // A lost race is normal; anything else (403, the API server down) is worth seeing.
        onError: (error) =>
          error instanceof LeaseConflictError
            ? log.debug({ err: error }, "lease attempt lost a race")
            : log.warn({ err: error }, "lease attempt failed"),
      })
    : undefined;
  return {
    elector,
    isLeader: () => leading,
    lost: () => lost,
    startFailure: () => startFailure,
    start: () => {
      if (elector) return elector.start();
      begin(new AbortController().signal).catch((error: unknown) =>
        log.error({ err: error }, "starting the controller failed"),
      );
    },
    // The elector stops the term (controller first) before it releases the lease.
    stop: async (release) => (elector ? elector.stop(release) : end()),
  };
}

/** The informers every replica runs from the start (the webhook answers from them, leader or not). */
function startInformers(runtime: ReturnType<typeof connect>) {
  const policies = policyInformer(runtime.informers);
  const index = new PolicyIndex((namespace) => policies.list(namespace));
  void policies.start();
  const limitRanges = limitRangeInformer(runtime.informers);
  void limitRanges.start();
  return { policies, index, limitRanges };
}

export async function startOperator(
  config: Readonly<Config>,
  options: StartOptions = {},
): Promise<OperatorHandle> {
  const runtime = connect(config, options);
  const { log, metrics } = runtime;
  const nativeSidecar = await detectNativeSidecar(config, runtime.kubeConfig.makeApiClient(VersionApi), log);
  const { policies, index, limitRanges } = startInformers(runtime);
  let finish: (result: { code: number; reason: string }) => void = () => undefined;
  const done = new Promise<{ code: number; reason: string }>((resolve) => (finish = resolve));
  const fatal = (reason: string) => finish({ code: 1, reason });
  let stopping = false;

  // Every replica sees the installation's anchor once at start, so a later 404 reads as "gone".
  await runtime.owner
    .lookup()
    .catch((error: unknown) => log.warn({ err: error }, "cannot read the MutatingWebhookConfiguration yet"));
  const certs = certSource(config, {
    ...runtime,
    clock: systemClock,
    applyWebhookConfiguration: webhookRegistrar(config, runtime.objects, runtime.owner),
  });
  // Writes only while its term of leadership lasts: a reconcile in flight when it ends sends nothing more.
  const newController = (term: AbortSignal) =>
    new PolicyController({
      policies,
      index,
      informers: runtime.informers,
      writer: fencedWriter(new ApiClusterWriter(runtime, config.identity), term),
      clock: systemClock,
      log,
      metrics,
      workers: config.workers,
      resyncPeriodMs: config.resyncPeriodMs,
    });
  // A controller does not restart: each term of leadership gets a new one.
  let controller = newController(AbortSignal.abort());
  const leader = leadership(
    runtime,
    {
      start: async (signal) => {
        controller = newController(signal);
        await certs.lead();
        if (!stopping && !signal.aborted) await controller.start();
      },
      stop: async () => {
        await certs.unlead();
        await controller.stop();
      },
    },
    fatal,
  );
  const webhook = serveWebhookWhenReady(
    runtime,
    certs.holder,
    webhookDeps(config, index, nativeSidecar, (namespace) => limitRanges.list(namespace)),
    fatal,
  );
  const metricsServer = await startMetricsServer(config.metricsListen, metrics, {
    live: () => (leader.lost() ? "leadership lost" : undefined),
    ready: () => {
      if (stopping) return "shutting down";
      if (!policies.synced) return "CachePolicy informer not synced";
      if (!limitRanges.synced) return "LimitRange informer not synced";
      if (!certs.holder.current()) return "webhook certificate not loaded";
      if (!webhook()) return "webhook not listening";
      const failure = leader.startFailure();
      if (failure) return `${failure.code}: ${failure.message}`;
      if (leader.isLeader() && !controller.synced) return "controller informers not synced";
      return undefined;
    },
  });
  leader.start();

  return {
    webhookPort: () => webhook()?.port,
    metricsPort: metricsServer.port,
    isLeader: leader.isLeader,
    nativeSidecar,
    metrics,
    get controller() {
      return controller;
    },
    done,
    stop: async ({ release = true } = {}) => {
      // Not ready at once; the controller stops (reconciles in flight finish), then the lease is
      // handed over; the webhook keeps answering until every kube-proxy has dropped this pod from
      // the webhook Service, so no pod is admitted uninjected because its admission call reached a
      // closed port. An election round in flight finishes first, and writes nothing after.
      stopping = true;
      await leader.stop(release);
      await certs.stop();
      await controller.stop();
      if (config.shutdownDelayMs > 0 && webhook()) {
        log.info(
          { delayMs: config.shutdownDelayMs },
          "not ready; answering the webhook until the delay ends",
        );
        await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
      }
      await Promise.all([webhook()?.close(), metricsServer.close(), policies.stop(), limitRanges.stop()]);
      finish({ code: 0, reason: "stopped" });
    },
  };
}

function webhookDeps(
  config: Config,
  index: PolicyIndex,
  nativeSidecar: boolean,
  limitRanges: AdmissionDeps["limitRanges"],
): AdmissionDeps {
  const rendered = new WeakMap<object, string>();
  const excluded = new Set([config.namespace, "kube-system"]);
  return {
    findPolicy: (namespace, labels) => {
      if (excluded.has(namespace)) return undefined;
      const verdict = index.policyForPod(namespace, labels);
      if (!verdict) return undefined;
      let configHash = rendered.get(verdict.policy);
      if (configHash === undefined) {
        configHash = renderConfig(verdict.policy).configHash;
        rendered.set(verdict.policy, configHash);
      }
      return { policy: verdict.policy, configHash };
    },
    limitRanges,
    options: {
      image: config.sidecarImage,
      imagePullPolicy: config.sidecarImagePullPolicy,
      version: config.sidecarVersion,
      nativeSidecar,
      ...(config.sidecarLogLevel ? { logLevel: config.sidecarLogLevel } : {}),
      resources: sidecarResourceSettings(config),
    },
  };
}
