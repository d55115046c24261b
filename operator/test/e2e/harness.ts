import { randomBytes } from "node:crypto";
import { request as httpsRequest, type RequestOptions } from "node:https";
import { type CachePolicyStatus, cachePolicyCrd } from "@apicache/crds";
import { type KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod } from "@kubernetes/client-node";
import { pino } from "pino";
import { createTestNamespace, type KubeClients } from "../../../testkit/src/kube/client.js";
import { freePort } from "../../../testkit/src/ports.js";
import { waitFor } from "../../../testkit/src/wait.js";
import { type OperatorHandle, parseConfig, startOperator } from "../../src/index.js";

/** Operator e2e helpers: the CRD, opted-in namespaces, an in-process operator, policy objects. */
export const CP = { group: "apicache.io", version: "v1alpha1", plural: "cachepolicies" } as const;

export async function installCrd(clients: KubeClients): Promise<void> {
  // Raw JSON: client-node's typed serializer drops x-kubernetes-* schema keys.
  const apply = (crd: unknown) =>
    rawRequest(clients.kubeConfig, {
      method: "PATCH",
      path: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/cachepolicies.apicache.io?fieldManager=apicache-e2e&force=true",
      contentType: "application/apply-patch+yaml",
      body: JSON.stringify(crd),
    });
  await apply(cachePolicyCrd());
  await waitFor(
    "the CachePolicy CRD to be Established",
    async () => {
      const stored = await clients.apiextensions.readCustomResourceDefinition({
        name: "cachepolicies.apicache.io",
      });
      return stored.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
    },
    { timeoutMs: 30_000 },
  );
}

/** One API request with the kubeconfig's credentials, body sent as is. */
export async function rawRequest(
  kubeConfig: KubeConfig,
  request: { method: string; path: string; contentType?: string; body?: string },
): Promise<unknown> {
  const server = new URL(kubeConfig.getCurrentCluster()?.server ?? "");
  const options: RequestOptions = {
    method: request.method,
    hostname: server.hostname,
    port: server.port,
    path: request.path,
    headers: { "content-type": request.contentType ?? "application/json", accept: "application/json" },
  };
  await kubeConfig.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        if ((res.statusCode ?? 500) >= 300)
          reject(new Error(`${request.method} ${request.path}: HTTP ${res.statusCode}: ${text}`));
        else resolve(text ? JSON.parse(text) : undefined);
      });
    });
    req.on("error", reject);
    req.end(request.body);
  });
}

/** A namespace labelled apicache.io/injection=enabled. */
export async function injectionNamespace(clients: KubeClients, prefix = "inject"): Promise<string> {
  const name = await createTestNamespace(clients, prefix);
  await clients.core.patchNamespace(
    { name, body: { metadata: { labels: { "apicache.io/injection": "enabled" } } } },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
  return name;
}

export interface TestOperator {
  readonly handle: OperatorHandle;
  /** Its log lines at warn and above, parsed (pino JSON). */
  readonly logs: readonly Record<string, unknown>[];
  readonly namespace: string;
  readonly configurationName: string;
  readonly identity: string;
  stop(options?: { release?: boolean }): Promise<void>;
}

export interface TestOperatorOptions {
  readonly kubeconfig: string;
  readonly namespace: string;
  readonly identity?: string;
  /** Shared by replicas of one test (same lease, Secret and configuration). */
  readonly group?: string;
  readonly args?: readonly string[];
  /** What `logs` keeps (default warn). */
  readonly logLevel?: "info" | "warn";
}

export async function startTestOperator(options: TestOperatorOptions): Promise<TestOperator> {
  const group = options.group ?? randomBytes(3).toString("hex");
  const identity = options.identity ?? `op-${randomBytes(3).toString("hex")}`;
  const port = await freePort();
  const configurationName = `apicache-e2e-${group}`;
  const config = parseConfig({
    argv: [
      `--kubeconfig=${options.kubeconfig}`,
      `--namespace=${options.namespace}`,
      `--identity=${identity}`,
      `--lease-name=apicache-${group}`,
      `--cert-secret=apicache-webhook-${group}`,
      `--webhook-configuration-name=${configurationName}`,
      "--metrics-listen=127.0.0.1:0",
      `--webhook-listen=127.0.0.1:${port}`,
      `--webhook-url=https://127.0.0.1:${port}`,
      "--lease-duration=4s",
      "--renew-deadline=3s",
      "--retry-period=500ms",
      "--shutdown-delay=0s",
      "--sidecar-image=ghcr.io/apicache/sidecar:e2e",
      ...(options.args ?? []),
    ],
    env: {},
    hostname: "e2e",
  });
  const logs: Record<string, unknown>[] = [];
  const log = pino(
    { level: options.logLevel ?? "warn" },
    { write: (line: string) => logs.push(JSON.parse(line)) },
  );
  const handle = await startOperator(config, { log });
  return {
    handle,
    logs,
    namespace: options.namespace,
    configurationName,
    identity,
    stop: (stopOptions) => handle.stop(stopOptions),
  };
}

export async function deleteWebhookConfiguration(clients: KubeClients, name: string): Promise<void> {
  await clients.admission.deleteMutatingWebhookConfiguration({ name }).catch(() => undefined);
}

export function appPod(
  name: string,
  labels: Record<string, string>,
  extra: Partial<V1Pod["spec"]> = {},
): V1Pod {
  return {
    metadata: { name, labels },
    spec: {
      containers: [
        {
          name: "api",
          image: "example.invalid/booking-api:1",
          ports: [{ name: "http", containerPort: 8080 }],
          readinessProbe: { httpGet: { path: "/ready", port: "http" } },
          livenessProbe: { tcpSocket: { port: "http" } },
        },
      ],
      ...extra,
    },
  };
}

/** Waits until a dry-run create of a matching pod comes back injected: the API server calls us. */
export async function waitUntilInjecting(
  clients: KubeClients,
  namespace: string,
  labels: Record<string, string>,
) {
  await waitFor(
    "the API server to call the operator's webhook",
    async () => {
      const pod = await clients.core.createNamespacedPod({
        namespace,
        body: appPod(`probe-${randomBytes(3).toString("hex")}`, labels),
        dryRun: "All",
      });
      return pod.metadata?.annotations?.["apicache.io/status"] !== undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
}

export function policyManifest(name: string, namespace: string, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: "apicache.io/v1alpha1",
    kind: "CachePolicy",
    metadata: { name, namespace },
    spec: {
      selector: { matchLabels: { app: name } },
      upstream: { port: "http" },
      routes: [{ name: "items", path: "/items/:id", ttl: "60s" }],
      ...spec,
    },
  };
}

export interface StoredPolicyObject {
  metadata: { name: string; namespace: string; generation: number; uid: string; resourceVersion: string };
  spec: Record<string, unknown>;
  status?: CachePolicyStatus;
}

export async function createPolicy(clients: KubeClients, manifest: ReturnType<typeof policyManifest>) {
  return (await clients.custom.createNamespacedCustomObject({
    ...CP,
    namespace: manifest.metadata.namespace,
    body: manifest,
  })) as StoredPolicyObject;
}

export async function readPolicy(clients: KubeClients, namespace: string, name: string) {
  return (await clients.custom.getNamespacedCustomObject({ ...CP, namespace, name })) as StoredPolicyObject;
}

export function condition(policy: StoredPolicyObject, type: string) {
  return policy.status?.conditions?.find((c) => c.type === type);
}

/** How long `waitForStatus` waits: every caller so far waits this long, so it is not a parameter. */
const STATUS_TIMEOUT_MS = 15_000;

/** Polls until the policy's status describes its current generation and `check` holds. */
export async function waitForStatus(
  clients: KubeClients,
  namespace: string,
  name: string,
  check: (policy: StoredPolicyObject) => boolean,
) {
  return waitFor(
    `the status of CachePolicy ${namespace}/${name}`,
    async () => {
      const policy = await readPolicy(clients, namespace, name);
      return policy.status?.observedGeneration === policy.metadata.generation && check(policy)
        ? policy
        : undefined;
    },
    { timeoutMs: STATUS_TIMEOUT_MS, intervalMs: 100 },
  );
}

/**
 * The common starting point: the CRD installed, one operator leading in a namespace of its own, a
 * CachePolicy `api` (selecting app=api) Ready in a new injection namespace, and the webhook injecting.
 */
export async function startInjectingOperator(
  clients: KubeClients,
  options: { readonly kubeconfig: string; readonly prefix: string; readonly args?: readonly string[] },
): Promise<{ operator: TestOperator; ns: string }> {
  await installCrd(clients);
  const opNamespace = await createTestNamespace(clients, "apicache-op");
  const ns = await injectionNamespace(clients, options.prefix);
  const operator = await startTestOperator({
    kubeconfig: options.kubeconfig,
    namespace: opNamespace,
    ...(options.args ? { args: options.args } : {}),
  });
  await waitFor("the operator to lead", () => operator.handle.isLeader(), { timeoutMs: 15_000 });
  await createPolicy(clients, policyManifest("api", ns));
  await waitForStatus(clients, ns, "api", (p) => condition(p, "Ready")?.status === "True");
  await waitUntilInjecting(clients, ns, { app: "api" });
  return { operator, ns };
}
