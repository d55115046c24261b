// The operator under exactly the RBAC the Helm chart grants it. The chart is rendered with the real
// helm (default values, a unique release in a fresh namespace); its ServiceAccount, ClusterRole(Binding)
// and Role(Binding) are applied, plus the MutatingWebhookConfiguration, which the chart installs and the
// operator only patches. The operator then runs in-process with the Deployment's own arguments and a
// TokenRequest token of that ServiceAccount (no client certificate), and every path that uses a
// permission is exercised. A copy of the chart with `watch` removed from roles shows the test can fail.

import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuthenticationV1Api,
  CoordinationV1Api,
  KubeConfig,
  type KubernetesObject,
  RbacAuthorizationV1Api,
  type V1PolicyRule,
} from "@kubernetes/client-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type K8sObject, template } from "../../../charts/test/helm.js";
import { createTestNamespace, type KubeClients } from "../../../testkit/src/kube/client.js";
import { e2eClients } from "../../../testkit/src/kube/e2e-context.js";
import { waitFor } from "../../../testkit/src/wait.js";
import { type OperatorHandle, parseConfig, startOperator } from "../../src/index.js";
import {
  appPod,
  condition,
  createPolicy,
  injectionNamespace,
  installCrd,
  policyManifest,
  waitForStatus,
} from "./harness.js";

const RBAC_KINDS = new Set(["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"]);
/** Far below the 10-minute default resync: only the operator's watches explain a repair this fast. */
const REPAIR_DEADLINE_MS = 5_000;
/** How long the operator under the reduced ClusterRole is watched for (never) becoming ready. */
const NOT_READY_WINDOW_MS = 3_000;
/** How a refused request shows in the operator's error messages (watch: "Forbidden"; calls: HTTP-Code). */
const FORBIDDEN = /forbidden|HTTP-Code: 403/i;

/** What one `helm template` of the chart installs for the operator, as this test uses it. */
interface ChartRelease {
  readonly release: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** The operator container's args, exactly as the chart's Deployment passes them. */
  readonly args: readonly string[];
  readonly rbac: readonly K8sObject[];
  readonly webhookConfiguration: K8sObject;
}

interface PodSpecLike {
  spec: {
    template: { spec: { serviceAccountName: string; containers: { name: string; args: string[] }[] } };
  };
}

async function renderChart(clients: KubeClients): Promise<ChartRelease> {
  const release = `rbac-${randomBytes(3).toString("hex")}`;
  const namespace = await createTestNamespace(clients, "apicache-rbac");
  const objects = await template("helm4", {}, { release, namespace });
  const deployment = objects.find((o) => o.kind === "Deployment") as unknown as PodSpecLike | undefined;
  const podSpec = deployment?.spec.template.spec;
  const args = podSpec?.containers.find((c) => c.name === "operator")?.args;
  const webhookConfiguration = objects.find((o) => o.kind === "MutatingWebhookConfiguration");
  if (!podSpec || !args || !webhookConfiguration)
    throw new Error("the chart rendered no operator Deployment or no MutatingWebhookConfiguration");
  return {
    release,
    namespace,
    serviceAccount: podSpec.serviceAccountName,
    args,
    rbac: objects.filter((o) => RBAC_KINDS.has(o.kind)),
    webhookConfiguration,
  };
}

function flagValue(args: readonly string[], name: string): string {
  const value = args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  if (value === undefined) throw new Error(`the chart passes no --${name} to the operator`);
  return value;
}

/** The same rules with `verb` taken away from `resource` only (a rule naming others is split). */
function withoutVerb(rules: readonly V1PolicyRule[], resource: string, verb: string): V1PolicyRule[] {
  return rules.flatMap((rule) => {
    if (!rule.resources?.includes(resource) || !rule.verbs.includes(verb)) return [rule];
    const others = rule.resources.filter((r) => r !== resource);
    const reduced = { ...rule, resources: [resource], verbs: rule.verbs.filter((v) => v !== verb) };
    return others.length > 0 ? [reduced, { ...rule, resources: others }] : [reduced];
  });
}

/** Applies what the chart installs for the operator (as helm would, with admin rights). */
async function installChart(
  clients: KubeClients,
  chart: ChartRelease,
  editClusterRole = (r: K8sObject) => r,
) {
  const objects = [
    ...chart.rbac.map((o) => (o.kind === "ClusterRole" ? editClusterRole(o) : o)),
    chart.webhookConfiguration,
  ];
  for (const object of objects) await clients.objects.create(object as KubernetesObject);
}

async function uninstallClusterScoped(clients: KubeClients, chart: ChartRelease): Promise<void> {
  const clusterScoped = [...chart.rbac, chart.webhookConfiguration].filter((o) => !o.metadata.namespace);
  for (const object of clusterScoped)
    await clients.objects.delete(object as KubernetesObject).catch(() => undefined);
}

/** A kubeconfig for the same server and CA that authenticates with a TokenRequest token only. */
async function serviceAccountKubeconfig(clients: KubeClients, chart: ChartRelease, dir: string) {
  const request = await clients.core.createNamespacedServiceAccountToken({
    namespace: chart.namespace,
    name: chart.serviceAccount,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = clients.kubeConfig.getCurrentCluster();
  if (!cluster || !request.status?.token) throw new Error("no current cluster or no token issued");
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: "e2e", server: cluster.server, caData: cluster.caData, skipTLSVerify: false }],
    users: [{ name: chart.serviceAccount, token: request.status.token }],
    contexts: [{ name: "operator", cluster: "e2e", user: chart.serviceAccount }],
    currentContext: "operator",
  });
  const path = join(dir, `${chart.release}.kubeconfig`);
  writeFileSync(path, kubeConfig.exportConfig(), { mode: 0o600 });
  return { path, kubeConfig };
}

interface ChartOperator {
  readonly handle: OperatorHandle;
  readonly identity: string;
  /** The operator's warn/error log lines, shortened (see briefly), quoted when a wait fails. */
  readonly logs: string[];
}

/** The operator in-process, configured by the chart's args; listeners moved to loopback ports. */
async function startAsChart(chart: ChartRelease, kubeconfig: string): Promise<ChartOperator> {
  const identity = `${chart.release}-0`;
  const argv = chart.args
    .filter((a) => !a.startsWith("--metrics-listen=") && !a.startsWith("--webhook-listen="))
    .map((a) => a.replaceAll("$(POD_NAMESPACE)", chart.namespace).replaceAll("$(POD_NAME)", identity));
  argv.push(
    "--metrics-listen=127.0.0.1:0",
    "--webhook-listen=127.0.0.1:0",
    "--shutdown-delay=0s",
    `--kubeconfig=${kubeconfig}`,
  );
  const logs: string[] = [];
  const log = pino({ level: "warn" }, { write: (line: string) => void logs.push(briefly(line)) });
  const config = parseConfig({ argv, env: {}, hostname: "e2e" });
  return { handle: await startOperator(config, { log }), identity, logs };
}

/** A log line as `msg (resource): error message`, cut short: enough to see which call was refused. */
function briefly(line: string): string {
  const entry = JSON.parse(line) as { msg?: string; resource?: string; err?: { message?: string } };
  const where = entry.resource ? ` (${entry.resource})` : "";
  return `${entry.msg}${where}: ${(entry.err?.message ?? "").replaceAll(/\s+/g, " ").slice(0, 400)}`;
}

async function readyz(handle: OperatorHandle): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${handle.metricsPort}/readyz`);
  return { status: response.status, body: (await response.text()).trim() };
}

/** waitFor, with the operator's last warnings in the error when it times out. */
async function waitForOperator<T>(
  operator: ChartOperator,
  description: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  try {
    return await waitFor(description, probe, { timeoutMs, intervalMs: 100 });
  } catch (error) {
    const logs = operator.logs.slice(-3).join("\n");
    throw new Error(`${(error as Error).message}\noperator warnings:\n${logs || "(none)"}`);
  }
}

describe("the operator under exactly the RBAC the Helm chart grants it", () => {
  let clients: KubeClients;
  let rbac: RbacAuthorizationV1Api;
  let dir: string;
  let chart: ChartRelease;
  let operatorKubeConfig: KubeConfig;
  let operator: ChartOperator | undefined;
  let ns: string;
  const policy = "menu";
  const owned = "apicache-menu";

  beforeAll(async () => {
    clients = e2eClients();
    rbac = clients.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    dir = mkdtempSync(join(tmpdir(), "apicache-chart-rbac-"));
    await installCrd(clients);
    chart = await renderChart(clients);
    await installChart(clients, chart);
    const credentials = await serviceAccountKubeconfig(clients, chart, dir);
    operatorKubeConfig = credentials.kubeConfig;
    ns = await injectionNamespace(clients, "rbac-app");
    await clients.core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: "api" } } });
    operator = await startAsChart(chart, credentials.path);
  });

  afterAll(async () => {
    await operator?.handle.stop();
    if (chart) await uninstallClusterScoped(clients, chart);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("talks to the API server as the chart's ServiceAccount, with a bearer token and no client certificate", async () => {
    const user = operatorKubeConfig.getCurrentUser();
    expect(user?.token).toBeTruthy();
    expect([user?.certData, user?.keyData, user?.certFile]).toEqual([undefined, undefined, undefined]);
    const review = await operatorKubeConfig.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({
      body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
    });
    expect(review.status?.userInfo?.username).toBe(
      `system:serviceaccount:${chart.namespace}:${chart.serviceAccount}`,
    );
  });

  it("takes the chart's leader-election Lease and renews it (create, get, update), owned by the chart's webhook configuration", async () => {
    const op = operator as ChartOperator;
    await waitForOperator(op, "the operator to lead", async () => op.handle.isLeader());
    const read = () =>
      clients.kubeConfig.makeApiClient(CoordinationV1Api).readNamespacedLease({
        namespace: chart.namespace,
        name: flagValue(chart.args, "lease-name"),
      });
    const acquired = await read();
    expect(acquired.spec?.holderIdentity).toBe(op.identity);
    const renewed = await waitForOperator(op, "a renewal of the Lease", async () => {
      const lease = await read();
      return String(lease.spec?.renewTime) !== String(acquired.spec?.renewTime) ? lease : undefined;
    });
    expect(renewed.spec?.holderIdentity).toBe(op.identity);
    const configuration = await clients.admission.readMutatingWebhookConfiguration({
      name: flagValue(chart.args, "webhook-configuration-name"),
    });
    expect(renewed.metadata?.ownerReferences?.map((ref) => ref.uid)).toEqual([configuration.metadata?.uid]);
  });

  it("stores its webhook certificate in the chart's Secret and patches the CA into the chart's webhook configuration", async () => {
    const op = operator as ChartOperator;
    const secret = await waitForOperator(op, "the webhook certificate Secret", async () => {
      const stored = await clients.core.readNamespacedSecret({
        namespace: chart.namespace,
        name: flagValue(chart.args, "cert-secret"),
      });
      return stored.data?.["tls.crt"] && stored.data["ca-bundle.crt"] ? stored : undefined;
    });
    const configuration = await waitForOperator(op, "the caBundle in the webhook configuration", async () => {
      const stored = await clients.admission.readMutatingWebhookConfiguration({
        name: flagValue(chart.args, "webhook-configuration-name"),
      });
      return stored.webhooks?.[0]?.clientConfig.caBundle ? stored : undefined;
    });
    expect(configuration.webhooks?.[0]?.clientConfig.caBundle).toBe(secret.data?.["ca-bundle.crt"]);
    expect(configuration.webhooks?.[0]?.clientConfig.service?.name).toBe(
      flagValue(chart.args, "webhook-service"),
    );
  });

  it("reports ready on /readyz", async () => {
    const op = operator as ChartOperator;
    const ready = await waitForOperator(op, "/readyz to answer 200", async () => {
      const answer = await readyz(op.handle);
      return answer.status === 200 ? answer : undefined;
    });
    expect(ready.body).toBe("ok");
  });

  it("reconciles a CachePolicy to Ready=True: ConfigMap written, the selected pod counted; Role and RoleBinding once a pod runs the sidecar", async () => {
    await clients.core.createNamespacedServiceAccount({
      namespace: ns,
      body: { metadata: { name: "legacy" } },
    });
    await clients.core.createNamespacedPod({
      namespace: ns,
      body: appPod("menu-0", { app: policy }, { serviceAccountName: "legacy" }),
    });
    const created = await createPolicy(clients, policyManifest(policy, ns));
    const ready = await waitForStatus(
      clients,
      ns,
      policy,
      (p) => condition(p, "Ready")?.status === "True" && p.status?.selectedPods === 1,
    );
    expect(ready.status).toMatchObject({ observedGeneration: created.metadata.generation, selectedPods: 1 });
    const ownerRef = expect.objectContaining({ kind: "CachePolicy", uid: created.metadata.uid });
    const configMap = await clients.core.readNamespacedConfigMap({ namespace: ns, name: owned });
    expect(configMap.metadata?.ownerReferences).toEqual([ownerRef]);
    // The Role and RoleBinding come with the first pod that runs the sidecar. The chart's webhook
    // configuration points at its Service, which this API server cannot reach, so this pod carries
    // the status annotation the webhook would have written: the operator counts it as injected.
    const injection = { policy, configHash: ready.status?.configHash, version: "test", native: true };
    await clients.core.createNamespacedPod({
      namespace: ns,
      body: {
        ...appPod("menu-1", { app: policy }, { serviceAccountName: "api" }),
        metadata: {
          name: "menu-1",
          labels: { app: policy },
          annotations: { "apicache.io/status": JSON.stringify(injection) },
        },
      },
    });
    const role = await waitFor("the Role", () => rbac.readNamespacedRole({ namespace: ns, name: owned }));
    expect(role.rules).toEqual([expect.objectContaining({ resourceNames: [owned] })]);
    const binding = await waitFor("the RoleBinding to name the pod's service account", async () => {
      const stored = await rbac.readNamespacedRoleBinding({ namespace: ns, name: owned });
      return stored.subjects?.some((s) => s.name === "api") ? stored : undefined;
    });
    expect(binding.metadata?.ownerReferences).toEqual([ownerRef]);
    // menu-0 (service account "legacy") runs without the sidecar: not granted.
    expect(binding.subjects?.map((s) => s.name)).toEqual(["api"]);
  });

  it("creates the policy's admin token Secret (create is all it holds on Secrets there)", async () => {
    const secret = await waitFor("the admin token Secret", async () =>
      clients.core.readNamespacedSecret({ namespace: ns, name: `${owned}-admin` }),
    );
    expect(secret.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: "CachePolicy", name: policy, controller: true }),
    ]);
    expect(Buffer.from(secret.data?.token ?? "", "base64").toString().length).toBeGreaterThanOrEqual(40);
  });

  it("records an Event on the CachePolicy", async () => {
    // menu-0 predates the policy, so it runs without the sidecar: a PodsNotInjected warning.
    const event = await waitFor("a PodsNotInjected Event on the CachePolicy", async () => {
      const events = await clients.core.listNamespacedEvent({
        namespace: ns,
        fieldSelector: `involvedObject.name=${policy}`,
      });
      return events.items.find((e) => e.reason === "PodsNotInjected");
    });
    expect(event).toMatchObject({
      type: "Warning",
      involvedObject: { kind: "CachePolicy", name: policy },
      reportingInstance: (operator as ChartOperator).identity,
    });
  });

  const ownedKinds = {
    ConfigMap: {
      read: () => clients.core.readNamespacedConfigMap({ namespace: ns, name: owned }),
      remove: () => clients.core.deleteNamespacedConfigMap({ namespace: ns, name: owned }),
    },
    Role: {
      read: () => rbac.readNamespacedRole({ namespace: ns, name: owned }),
      remove: () => rbac.deleteNamespacedRole({ namespace: ns, name: owned }),
    },
    RoleBinding: {
      read: () => rbac.readNamespacedRoleBinding({ namespace: ns, name: owned }),
      remove: () => rbac.deleteNamespacedRoleBinding({ namespace: ns, name: owned }),
    },
  } as const;

  it.each(Object.keys(ownedKinds) as (keyof typeof ownedKinds)[])(
    `recreates a deleted %s within ${REPAIR_DEADLINE_MS} ms (its list/watch informer)`,
    async (kind) => {
      const { read, remove } = ownedKinds[kind];
      const before = await read();
      await remove();
      const recreated = await waitFor(
        `the operator to recreate the ${kind}`,
        async () => {
          const stored = await read();
          return stored.metadata?.uid !== before.metadata?.uid ? stored : undefined;
        },
        { timeoutMs: REPAIR_DEADLINE_MS, intervalMs: 50 },
      );
      expect(recreated.metadata?.ownerReferences).toEqual(before.metadata?.ownerReferences);
    },
  );

  // Some writes only log a warning when refused (an Event, a retried certificate upkeep).
  it("was never refused by the API server (no 403 among its warnings)", () => {
    const refused = (operator as ChartOperator).logs.filter((line) => FORBIDDEN.test(line));
    expect(refused).toEqual([]);
  });
});

describe("the operator under a copy of the chart's ClusterRole without watch on roles", () => {
  let clients: KubeClients;
  let dir: string;
  let chart: ChartRelease;
  let operator: ChartOperator | undefined;

  beforeAll(async () => {
    clients = e2eClients();
    dir = mkdtempSync(join(tmpdir(), "apicache-chart-rbac-"));
    await installCrd(clients);
    chart = await renderChart(clients);
    await installChart(clients, chart, (clusterRole) => {
      const rules = clusterRole.rules as V1PolicyRule[];
      const reduced = withoutVerb(rules, "roles", "watch");
      if (JSON.stringify(reduced) === JSON.stringify(rules))
        throw new Error("the chart's ClusterRole has no watch on roles to take away");
      return { ...clusterRole, rules: reduced };
    });
    const credentials = await serviceAccountKubeconfig(clients, chart, dir);
    operator = await startAsChart(chart, credentials.path);
  });

  afterAll(async () => {
    await operator?.handle.stop();
    if (chart) await uninstallClusterScoped(clients, chart);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`leads and serves, but is not ready within ${NOT_READY_WINDOW_MS} ms: the Role informer cannot watch`, async () => {
    const op = operator as ChartOperator;
    // Lease, Secret and webhook work: /readyz gets as far as the controller's informers.
    const notSynced = await waitForOperator(op, "/readyz to wait on the controller's informers", async () => {
      const answer = await readyz(op.handle);
      return op.handle.isLeader() && answer.body === "controller informers not synced" ? answer : undefined;
    });
    expect(notSynced.status).toBe(503);
    await waitForOperator(op, "the roles informer to be refused and restarted", async () => {
      const restarts = await op.handle.metrics.informerRestarts.get();
      return restarts.values.some((v) => v.labels.resource === "roles" && v.value > 0);
    });

    const becameReady = await waitFor(
      "/readyz to answer 200",
      async () => (await readyz(op.handle)).status === 200,
      {
        timeoutMs: NOT_READY_WINDOW_MS,
        intervalMs: 100,
      },
    ).then(
      () => true,
      () => false,
    );
    expect(becameReady).toBe(false);
    expect(await readyz(op.handle)).toEqual({ status: 503, body: "controller informers not synced" });
    // The refusal is visible the way the positive case looks for one.
    expect(op.logs.some((line) => FORBIDDEN.test(line) && line.includes("(roles)"))).toBe(true);
  });
});
