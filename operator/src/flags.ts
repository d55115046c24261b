import { randomBytes } from "node:crypto";
import { SIDECAR_MEMORY_LIMIT_TEXT } from "@apicache/crds";
import { BUILT_IN_RESOURCES } from "./inject/sidecar-resources.js";

export type Env = Readonly<Record<string, string | undefined>>;

/** Where flags come from: the command line, the environment (APICACHE_OPERATOR_*), the pod. */
export interface ConfigSources {
  readonly argv: readonly string[];
  readonly env: Env;
  /** The pod's namespace file content, when running in a cluster. */
  readonly inClusterNamespace?: string;
  readonly hostname?: string;
}

/** Every operator flag: name, kind, default and help. Pure data read by config.ts. */
export interface FlagSpec {
  readonly name: string;
  /** The Config property it sets. */
  readonly key: string;
  readonly kind: "string" | "boolean" | "duration" | "integer" | "address" | "quantity";
  readonly help: string;
  readonly choices?: readonly string[];
  /** A duration that may be zero (the feature off). */
  readonly zeroAllowed?: boolean;
  readonly default?: (sources: ConfigSources) => string | undefined;
}

export const defaultVersion = "0.1.0";

const fixed = (value: string) => () => value;

export const FLAGS: readonly FlagSpec[] = [
  {
    name: "kubeconfig",
    key: "kubeconfig",
    kind: "string",
    help: "Kubeconfig file; default: in-cluster service account.",
  },
  {
    name: "namespace",
    key: "namespace",
    kind: "string",
    help: "The operator's own namespace (lease, certificate Secret; excluded from injection).",
    default: (s) => s.inClusterNamespace?.trim() || "apicache-system",
  },
  {
    name: "identity",
    key: "identity",
    kind: "string",
    help: "This replica's leader-election identity; default: hostname plus a random suffix.",
    default: (s) => `${s.hostname ?? "operator"}-${randomBytes(3).toString("hex")}`,
  },
  {
    name: "sidecar-image",
    key: "sidecarImage",
    kind: "string",
    help: "Image of the injected sidecar.",
    default: fixed(`ghcr.io/apicache/sidecar:${defaultVersion}`),
  },
  {
    name: "sidecar-image-pull-policy",
    key: "sidecarImagePullPolicy",
    kind: "string",
    help: "imagePullPolicy of the injected sidecar.",
    choices: ["Always", "IfNotPresent", "Never"],
    default: fixed("IfNotPresent"),
  },
  {
    name: "sidecar-log-level",
    key: "sidecarLogLevel",
    kind: "string",
    help: "--log-level passed to injected sidecars (default: theirs).",
    choices: ["trace", "debug", "info", "warn", "error"],
  },
  {
    name: "sidecar-cpu-request",
    key: "sidecarCpuRequest",
    kind: "quantity",
    help: `CPU request of injected sidecars (a policy's spec.sidecar.resources wins; default ${BUILT_IN_RESOURCES.requests.cpu}).`,
  },
  {
    name: "sidecar-cpu-limit",
    key: "sidecarCpuLimit",
    kind: "quantity",
    help: `CPU limit of injected sidecars (a policy's spec.sidecar.resources wins; default ${BUILT_IN_RESOURCES.limits.cpu}).`,
  },
  {
    name: "sidecar-memory-request",
    key: "sidecarMemoryRequest",
    kind: "quantity",
    help: `Memory request of injected sidecars (a policy's spec.sidecar.resources wins; default ${BUILT_IN_RESOURCES.requests.memory}).`,
  },
  {
    name: "sidecar-memory-limit",
    key: "sidecarMemoryLimit",
    kind: "quantity",
    help: `Memory limit of injected sidecars (a policy's spec.sidecar.resources wins; default: ${SIDECAR_MEMORY_LIMIT_TEXT} of the policy's store.memory; a value below maxBytes is raised to that).`,
  },
  {
    name: "sidecar-version",
    key: "sidecarVersion",
    kind: "string",
    help: "Sidecar version recorded in the apicache.io/status annotation.",
    default: fixed(defaultVersion),
  },
  {
    name: "native-sidecar",
    key: "nativeSidecar",
    kind: "string",
    help: "Inject an initContainer with restartPolicy Always: auto (Kubernetes >= 1.32, where Services resolve its named ports), true or false.",
    choices: ["auto", "true", "false"],
    default: fixed("auto"),
  },
  {
    name: "leader-elect",
    key: "leaderElect",
    kind: "boolean",
    help: "Elect a leader (Lease) before running the controller.",
    default: fixed("true"),
  },
  {
    name: "lease-name",
    key: "leaseName",
    kind: "string",
    help: "Name of the coordination.k8s.io Lease.",
    default: fixed("apicache-operator"),
  },
  {
    name: "lease-duration",
    key: "leaseDurationMs",
    kind: "duration",
    help: "How long followers wait before taking over an unrenewed lease.",
    default: fixed("15s"),
  },
  {
    name: "renew-deadline",
    key: "renewDeadlineMs",
    kind: "duration",
    help: "How long the leader keeps trying to renew before giving up (and exiting).",
    default: fixed("10s"),
  },
  {
    name: "retry-period",
    key: "retryPeriodMs",
    kind: "duration",
    help: "Interval between acquire/renew attempts.",
    default: fixed("2s"),
  },
  {
    name: "metrics-listen",
    key: "metricsListen",
    kind: "address",
    help: "Listener for /metrics, /healthz and /readyz.",
    default: fixed("0.0.0.0:8080"),
  },
  {
    name: "webhook-listen",
    key: "webhookListen",
    kind: "address",
    help: "HTTPS listener of the injection webhook.",
    default: fixed("0.0.0.0:9443"),
  },
  {
    name: "webhook-url",
    key: "webhookUrl",
    kind: "string",
    help: "Out of cluster: base URL (https://HOST:PORT) at which the API server reaches --webhook-listen.",
  },
  {
    name: "webhook-service",
    key: "webhookService",
    kind: "string",
    help: "In cluster: the Service in front of the webhook listener (port 443).",
    default: fixed("apicache-operator-webhook"),
  },
  {
    name: "webhook-configuration-name",
    key: "webhookConfigurationName",
    kind: "string",
    help: "Name of the MutatingWebhookConfiguration the operator manages.",
    default: fixed("apicache-sidecar-injector"),
  },
  {
    name: "webhook-timeout-seconds",
    key: "webhookTimeoutSeconds",
    kind: "integer",
    help: "timeoutSeconds of the webhook (the API server's wait).",
    default: fixed("5"),
  },
  {
    name: "cert-mode",
    key: "certMode",
    kind: "string",
    help: "self-managed: the operator issues and rotates its CA and certificate; cert-manager: read them from --cert-dir.",
    choices: ["self-managed", "cert-manager"],
    default: fixed("self-managed"),
  },
  {
    name: "cert-secret",
    key: "certSecret",
    kind: "string",
    help: "self-managed: Secret (in --namespace) holding the CA and serving certificate.",
    default: fixed("apicache-webhook-tls"),
  },
  {
    name: "cert-dir",
    key: "certDir",
    kind: "string",
    help: "cert-manager: directory with the serving tls.crt and tls.key (watched for changes; the chart's CA injector sets the caBundle).",
    default: fixed("/tmp/k8s-webhook-server/serving-certs"),
  },
  {
    name: "cert-validity",
    key: "certValidityMs",
    kind: "duration",
    help: "self-managed: serving certificate lifetime (renewed at 2/3).",
    default: fixed("2160h"),
  },
  {
    name: "ca-validity",
    key: "caValidityMs",
    kind: "duration",
    help: "self-managed: CA lifetime (renewed at 2/3).",
    default: fixed("87600h"),
  },
  {
    name: "resync-period",
    key: "resyncPeriodMs",
    kind: "duration",
    help: "Every policy is reconciled again this often, even without changes.",
    default: fixed("10m"),
  },
  {
    name: "shutdown-delay",
    key: "shutdownDelayMs",
    kind: "duration",
    zeroAllowed: true,
    help:
      "On SIGTERM: hand the lease over at once, report not ready, and keep answering the webhook this long " +
      "(until every kube-proxy has dropped this pod from the webhook Service) before closing; 0s closes at once.",
    default: fixed("5s"),
  },
  {
    name: "workers",
    key: "workers",
    kind: "integer",
    help:
      "Policies reconciled concurrently (never the same one twice at once). Each waits on the API server for " +
      "its writes, so this bounds the write rate when the API server is slow; --write-qps bounds it always.",
    default: fixed("8"),
  },
  {
    name: "sidecar-pin-user",
    key: "sidecarPinUser",
    kind: "boolean",
    help:
      "Pin the injected sidecar's runAsUser/runAsGroup to the image's 65532. false leaves them to the cluster " +
      "(OpenShift's restricted SCC assigns a per-namespace range and refuses pinned IDs outside it); runAsNonRoot stays.",
    default: fixed("true"),
  },
  {
    name: "write-qps",
    key: "writeQps",
    kind: "integer",
    help:
      "At most this many writes a second from the controller to the API server (applies, creates, status, Events), " +
      "however many policies a restart or a resync queues at once.",
    default: fixed("200"),
  },
  {
    name: "write-burst",
    key: "writeBurst",
    kind: "integer",
    help: "Writes allowed at once above --write-qps after a quiet spell.",
    default: fixed("400"),
  },
  {
    name: "log-level",
    key: "logLevel",
    kind: "string",
    help: "Log level.",
    choices: ["trace", "debug", "info", "warn", "error", "fatal"],
    default: fixed("info"),
  },
];
