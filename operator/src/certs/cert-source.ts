import type { CoreV1Api } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import { ResilientInformer } from "../kube/informer.js";
import { INFORMER_BACKOFF, type InformerContext } from "../kube/informers.js";
import { InstallationGoneError, type ReleaseOwner } from "../kube/release-owner.js";
import type { RegisterWebhook } from "../webhook/registrar.js";
import { CertFiles } from "./cert-files.js";
import { SelfManagedCerts } from "./self-managed-certs.js";
import type { CertHolder } from "./serving-certs.js";

/** Where the webhook's serving certificate comes from: the Secret the leader keeps, or cert-manager's files. */
export interface CertDeps {
  readonly core: CoreV1Api;
  readonly informers: InformerContext;
  readonly clock: Clock;
  readonly log: Logger;
  readonly applyWebhookConfiguration: RegisterWebhook;
  readonly owner: ReleaseOwner;
}

export interface Certs {
  readonly holder: CertHolder;
  /** Leader only: issue/rotate (self-managed) and register the webhook configuration. */
  readonly lead: () => Promise<void>;
  /** Leader only: stops what lead() started (waiting for upkeep in flight); lead() may run again. */
  readonly unlead: () => Promise<void>;
  /** Waits for upkeep in flight. */
  readonly stop: () => Promise<void>;
}

function certNames(config: Config): string[] {
  const svc = config.webhookService;
  const ns = config.namespace;
  const names = [`${svc}.${ns}.svc`, `${svc}.${ns}.svc.cluster.local`, `${svc}.${ns}`, svc];
  if (config.webhookUrl) names.unshift(new URL(config.webhookUrl).hostname.replace(/^\[(.*)\]$/, "$1"));
  return names;
}

export function certSource(config: Config, deps: CertDeps): Certs {
  if (config.certMode === "cert-manager") {
    const files = new CertFiles(config.certDir, deps.log);
    files.start();
    let term = new AbortController();
    return {
      holder: files,
      // Gone: logged by the owner; the controller still starts (running sidecars keep their policies).
      lead: () => {
        term.abort();
        term = new AbortController();
        return deps.applyWebhookConfiguration(undefined, term.signal).catch((error: unknown) => {
          if (!(error instanceof InstallationGoneError)) throw error;
        });
      },
      // The registration in flight, if any, is aborted: it writes nothing after the term.
      unlead: async () => term.abort(),
      stop: async () => {
        term.abort();
        files.stop();
      },
    };
  }
  const fieldSelector = `metadata.name=${config.certSecret}`;
  const secrets = new ResilientInformer({
    resource: "secrets",
    path: `/api/v1/namespaces/${config.namespace}/secrets`,
    fieldSelector,
    list: () => deps.core.listNamespacedSecret({ namespace: config.namespace, fieldSelector }),
    watch: deps.informers.watch,
    clock: deps.clock,
    backoff: INFORMER_BACKOFF,
    log: deps.log,
    onRestart: deps.informers.onRestart,
  });
  const managed = new SelfManagedCerts(
    {
      core: deps.core,
      namespace: config.namespace,
      secretName: config.certSecret,
      names: certNames(config),
      certValidityMs: config.certValidityMs,
      caValidityMs: config.caValidityMs,
      clock: deps.clock,
      log: deps.log,
      publishCaBundle: (bundle, term) => deps.applyWebhookConfiguration(bundle, term),
      owner: deps.owner,
    },
    secrets,
  );
  void secrets.start();
  return {
    holder: managed,
    lead: () => managed.lead(),
    unlead: () => managed.stop(),
    stop: async () => {
      await managed.stop();
      await secrets.stop();
    },
  };
}
