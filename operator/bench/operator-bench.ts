/**
 * Operator benchmark (issue 6, acceptance 7): a real kube-apiserver + etcd (testkit), the operator
 * in-process. (1) 500 CachePolicies are created at once: how long until every one reports Ready for
 * its generation (target < 60 s). (2) The webhook answers AdmissionReviews for a matching pod at 50
 * concurrent requests: client-side latency percentiles (target p99 < 20 ms).
 * A benchmark, not a test: it prints a table and writes the "## Operator benchmark" section of
 * load-tests/results.md. Run: make bench-operator. APICACHE_E2E_KUBECONFIG reuses a running cluster.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { kubeClientsFromFile } from "../../testkit/src/kube/client.js";
import { startControlPlane } from "../../testkit/src/kube/control-plane.js";
import { spawnTracked } from "../../testkit/src/processes.js";
import { waitFor } from "../../testkit/src/wait.js";
import {
  CP,
  injectionNamespace,
  installCrd,
  policyManifest,
  startTestOperator,
} from "../test/e2e/harness.js";

const POLICIES = 500;
const NAMESPACES = 10;
const REQUESTS = 5_000;
const CONCURRENCY = 50;
const RESULTS = new URL("../../load-tests/results.md", import.meta.url);

async function readyCount(kubeConfig: KubeConfig): Promise<number> {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const list = (await api.listClusterCustomObject({ ...CP, labelSelector: "bench=operator" })) as {
    items: {
      metadata: { generation: number };
      status?: { observedGeneration?: number; conditions?: { type: string; status: string }[] };
    }[];
  };
  return list.items.filter(
    (p) =>
      p.status?.observedGeneration === p.metadata.generation &&
      p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
  ).length;
}

async function benchPolicies(kubeConfig: KubeConfig, namespaces: string[]): Promise<number> {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const started = Date.now();
  const bodies = Array.from({ length: POLICIES }, (_, i) => {
    const manifest = policyManifest(`api-${i}`, namespaces[i % namespaces.length] as string);
    return { ...manifest, metadata: { ...manifest.metadata, labels: { bench: "operator" } } };
  });
  for (let i = 0; i < bodies.length; i += 25) {
    await Promise.all(
      bodies
        .slice(i, i + 25)
        .map((body) => api.createNamespacedCustomObject({ ...CP, namespace: body.metadata.namespace, body })),
    );
  }
  await waitFor(
    `${POLICIES} CachePolicies to be Ready`,
    async () => (await readyCount(kubeConfig)) === POLICIES,
    { timeoutMs: 180_000, intervalMs: 250 },
  );
  return Date.now() - started;
}

/** The load client runs in its own process, as the API server would: it must not share our event loop. */
interface Latency {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

async function benchWebhook(port: number, namespace: string): Promise<Latency> {
  const child = spawnTracked(process.execPath, [
    "--import",
    "tsx",
    fileURLToPath(new URL("./webhook-client.ts", import.meta.url)),
    String(port),
    namespace,
    String(REQUESTS),
    String(CONCURRENCY),
  ]);
  await new Promise((resolve) => child.child.once("exit", resolve));
  const line = child.output().trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line) as Latency;
  } catch {
    throw new Error(`the webhook load client failed: ${child.output()}`);
  }
}

function section(result: { readyMs: number; latencies: Latency; date: string; load: string }): string {
  const l = result.latencies;
  const f = (ms: number) => ms.toFixed(2);
  return `## Operator benchmark

Produced by \`make bench-operator\` (operator/bench/operator-bench.ts) on ${result.date}: a local
kube-apiserver + etcd (testkit), the operator in-process (4 workers), ${cpus().length} CPU cores shared
with the API server (1-minute load average during the run: ${result.load}; above the core count the
numbers measure CPU contention more than the operator). Webhook latency is measured by a load client in its own process, over keep-alive HTTPS on loopback,
for AdmissionReviews of a pod that gets the sidecar (full injection + JSON patch).

| measurement | result | target |
|---|---|---|
| ${POLICIES} CachePolicies (${NAMESPACES} namespaces) created → all Ready for their generation | ${(result.readyMs / 1000).toFixed(1)} s | < 60 s |
| webhook, ${REQUESTS} reviews at ${CONCURRENCY} concurrent: p50 | ${f(l.p50)} ms | |
| webhook p90 | ${f(l.p90)} ms | |
| webhook p99 | ${f(l.p99)} ms | < 20 ms |
| webhook max | ${f(l.max)} ms | |
`;
}

function writeSection(text: string): void {
  const current = existsSync(RESULTS) ? readFileSync(RESULTS, "utf8") : "# Benchmark results\n";
  const start = current.indexOf("## Operator benchmark");
  if (start < 0) {
    writeFileSync(RESULTS, `${current.trimEnd()}\n\n${text}`);
    return;
  }
  const rest = current.slice(start + 3);
  const end = rest.search(/^## /m);
  const after = end < 0 ? "" : rest.slice(end);
  writeFileSync(RESULTS, `${current.slice(0, start)}${text}${after ? `\n${after}` : ""}`);
}

async function main(): Promise<void> {
  const existing = process.env.APICACHE_E2E_KUBECONFIG;
  const plane = existing
    ? undefined
    : await startControlPlane({ dir: mkdtempSync(join(tmpdir(), "apicache-bench-")), removeDirOnStop: true });
  const kubeconfig = existing ?? (plane?.kubeconfigPath as string);
  try {
    const clients = kubeClientsFromFile(kubeconfig);
    await installCrd(clients);
    const opNamespace = await injectionNamespace(clients, "apicache-op-bench");
    const namespaces = await Promise.all(
      Array.from({ length: NAMESPACES }, () => injectionNamespace(clients, "bench")),
    );
    const operator = await startTestOperator({
      kubeconfig,
      namespace: opNamespace,
      args: ["--leader-elect=false"],
    });
    try {
      await waitFor("the webhook to listen", () => operator.handle.webhookPort(), { timeoutMs: 30_000 });
      const loadStart = loadavg()[0]?.toFixed(1);
      const readyMs = await benchPolicies(clients.kubeConfig, namespaces);
      console.log(`${POLICIES} CachePolicies Ready in ${(readyMs / 1000).toFixed(1)} s`);
      const latencies = await benchWebhook(operator.handle.webhookPort() as number, namespaces[0] as string);
      const text = section({
        readyMs,
        latencies,
        date: new Date().toISOString().slice(0, 10),
        load: `${loadStart} → ${loadavg()[0]?.toFixed(1)}`,
      });
      console.log(text);
      writeSection(text);
      await clients.admission
        .deleteMutatingWebhookConfiguration({ name: operator.configurationName })
        .catch(() => undefined);
    } finally {
      await operator.stop();
    }
  } finally {
    await plane?.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
