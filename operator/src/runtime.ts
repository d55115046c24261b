import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  KubernetesObjectApi,
  RbacAuthorizationV1Api,
  Watch,
} from "@kubernetes/client-node";
import { type Logger, pino } from "pino";
import { systemClock } from "./clock.js";
import type { Config } from "./config.js";
import type { InformerContext } from "./kube/informers.js";
import { loadKubeConfig } from "./kube/kube-config.js";
import { ReleaseOwner } from "./kube/release-owner.js";
import { ValuePool } from "./kube/value-pool.js";
import { createMetrics, type OperatorMetrics } from "./telemetry/metrics.js";

/** What every part of the operator shares: the configuration, the log, metrics and API clients. */
export interface Runtime {
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

export function connect(config: Readonly<Config>, log?: Logger): Runtime {
  const logger =
    log ??
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
    log: logger,
    onRestart: (resource) => metrics.informerRestarts.inc({ resource }),
    pool: new ValuePool(),
  };
  const objects = KubernetesObjectApi.makeApiClient(kubeConfig);
  const admission = kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  const owner = new ReleaseOwner({
    name: config.webhookConfigurationName,
    read: () => admission.readMutatingWebhookConfiguration({ name: config.webhookConfigurationName }),
    clock: systemClock,
    log: logger,
  });
  return { config, log: logger, kubeConfig, core, custom, objects, metrics, informers, owner };
}
