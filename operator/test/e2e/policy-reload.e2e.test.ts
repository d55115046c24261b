import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RbacAuthorizationV1Api, type V1Container } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { createTestNamespace, type KubeClients } from "../../../testkit/src/kube/client.js";
import { e2eClients, e2eKubeconfigPath } from "../../../testkit/src/kube/e2e-context.js";
import { freePort } from "../../../testkit/src/ports.js";
import { type Spawned, spawnTracked } from "../../../testkit/src/processes.js";
import { waitFor } from "../../../testkit/src/wait.js";
import {
  appPod,
  CP,
  condition,
  createPolicy,
  deleteWebhookConfiguration,
  injectionNamespace,
  installCrd,
  policyManifest,
  readPolicy,
  startTestOperator,
  type TestOperator,
  waitForStatus,
  waitUntilInjecting,
} from "./harness.js";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const EDITS = 10;
const TARGET_P99_MS = 2_000;

/**
 * The sidecar started exactly as the injected container says: its args and env, the ConfigMap's files
 * written where the kubelet would mount them, a service-account token from the TokenRequest API.
 */
async function runInjectedSidecar(
  clients: KubeClients,
  namespace: string,
  sidecar: V1Container,
  { upstreamPort, serviceAccount = "api" }: { upstreamPort: number; serviceAccount?: string },
) {
  const dir = mkdtempSync(join(tmpdir(), "apicache-sidecar-"));
  const cm = await clients.core.readNamespacedConfigMap({ namespace, name: "apicache-api" });
  for (const [key, value] of Object.entries(cm.data ?? {})) writeFileSync(join(dir, key), value);
  const token = await clients.core.createNamespacedServiceAccountToken({
    namespace,
    name: serviceAccount,
    body: { spec: { expirationSeconds: 3600 } },
  });
  const cluster = clients.kubeConfig.getCurrentCluster();
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        { name: "e2e", cluster: { server: cluster?.server, "certificate-authority-data": cluster?.caData } },
      ],
      users: [{ name: "sa", user: { token: token.status?.token } }],
      contexts: [{ name: "sa", context: { cluster: "e2e", user: "sa", namespace } }],
      "current-context": "sa",
    }),
  );
  // The admin token Secret's keys as files, where the kubelet mounts the Secret volume.
  const tokenDir = mkdtempSync(join(tmpdir(), "apicache-admin-token-"));
  const secret = await waitFor("the policy's admin token Secret", () =>
    clients.core.readNamespacedSecret({ namespace, name: "apicache-api-admin" }),
  );
  for (const [key, value] of Object.entries(secret.data ?? {}))
    writeFileSync(join(tokenDir, key), Buffer.from(value, "base64"));
  const [listen, admin] = [await freePort(), await freePort()];
  const mount = sidecar.volumeMounts?.find((m) => m.name === "apicache-config")?.mountPath as string;
  const tokenMount = sidecar.volumeMounts?.find((m) => m.name === "apicache-admin-token")
    ?.mountPath as string;
  const args = (sidecar.args ?? []).map((arg) =>
    arg
      .replace(mount, dir)
      .replace(tokenMount, tokenDir)
      .replace(/^http:\/\/127\.0\.0\.1:\d+$/, `http://127.0.0.1:${upstreamPort}`)
      .replace(/^0\.0\.0\.0:9901$/, `127.0.0.1:${admin}`)
      .replace(/^0\.0\.0\.0:\d+$/, `127.0.0.1:${listen}`),
  );
  const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" };
  for (const variable of sidecar.env ?? []) {
    const field = variable.valueFrom?.fieldRef?.fieldPath;
    env[variable.name] =
      field === "metadata.namespace"
        ? namespace
        : field === "metadata.name"
          ? "api-0"
          : (variable.value ?? "");
  }
  const child = spawnTracked(
    process.execPath,
    [
      "--conditions=source",
      "--import",
      "tsx",
      join(REPO, "sidecar/src/main.ts"),
      ...args,
      "--kubeconfig",
      kubeconfig,
    ],
    { cwd: REPO, env },
  );
  await waitFor("the sidecar to be ready", async () => (await fetch(`http://127.0.0.1:${admin}/readyz`)).ok, {
    timeoutMs: 60_000,
    intervalMs: 100,
  }).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\n${child.output()}`);
  });
  return { child, listen, admin, args };
}

async function sidecarHash(admin: number): Promise<string> {
  const body = (await (await fetch(`http://127.0.0.1:${admin}/readyz`)).json()) as { configHash: string };
  return body.configHash;
}

describe("policy changes reach a running sidecar", () => {
  let clients: KubeClients;
  let operator: TestOperator;
  let ns: string;
  let upstream: Server;
  let upstreamCalls = 0;
  let sidecar: { child: Spawned; listen: number; admin: number; args: string[] };
  let injectedContainer: V1Container;

  beforeAll(async () => {
    clients = e2eClients();
    await installCrd(clients);
    const opNamespace = await createTestNamespace(clients, "apicache-op");
    ns = await injectionNamespace(clients, "reload");
    await clients.core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: "api" } } });
    operator = await startTestOperator({ kubeconfig: e2eKubeconfigPath(), namespace: opNamespace });
    await createPolicy(clients, policyManifest("api", ns));
    await waitForStatus(clients, ns, "api", (p) => condition(p, "Ready")?.status === "True");
    await waitUntilInjecting(clients, ns, { app: "api" });
    const pod = await clients.core.createNamespacedPod({
      namespace: ns,
      body: appPod("api-0", { app: "api" }, { serviceAccountName: "api" }),
    });
    const container = pod.spec?.initContainers?.find((c) => c.name === "apicache-sidecar") as V1Container;
    injectedContainer = container;
    const rbac = clients.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    await waitFor(
      "the RoleBinding to name the pod's service account",
      async () => {
        const binding = await rbac.readNamespacedRoleBinding({ namespace: ns, name: "apicache-api" });
        return binding.subjects?.some((s) => s.name === "api");
      },
      { timeoutMs: 15_000 },
    );
    upstream = createServer((req, res) => {
      upstreamCalls += 1;
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ path: req.url, calls: upstreamCalls }));
    });
    upstream.listen(0, "127.0.0.1");
    await new Promise((resolve) => upstream.once("listening", resolve));
    sidecar = await runInjectedSidecar(clients, ns, container, {
      upstreamPort: (upstream.address() as AddressInfo).port,
    });
  });

  afterAll(async () => {
    await sidecar?.child.stop();
    upstream?.close();
    await operator?.stop();
    if (operator) await deleteWebhookConfiguration(clients, operator.configurationName);
  });

  it("runs the injected sidecar, which serves repeated reads from its cache", async () => {
    const get = () => fetch(`http://127.0.0.1:${sidecar.listen}/items/1`);
    await (await get()).text();
    const second = await get();
    await second.text();
    expect(second.headers.get("cache-status")).toMatch(/^apicache; hit/);
    expect(upstreamCalls).toBe(1);
  });

  it("guards the injected sidecar's /invalidate with the token from the policy's Secret", async () => {
    const secret = await clients.core.readNamespacedSecret({ namespace: ns, name: "apicache-api-admin" });
    const token = Buffer.from(secret.data?.token ?? "", "base64").toString();
    const invalidate = (headers: Record<string, string>) =>
      fetch(`http://127.0.0.1:${sidecar.admin}/invalidate`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ tags: ["nothing"] }),
      });
    const anonymous = await invalidate({});
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toContain("Bearer");
    expect((await invalidate({ authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${sidecar.admin}/metrics`)).status).toBe(200);
  });

  it(`applies TTL edits within ${TARGET_P99_MS} ms (p99 over ${EDITS} edits), without a restart`, async () => {
    const latencies: number[] = [];
    for (let i = 0; i < EDITS; i++) {
      const ttl = `${61 + i}s`;
      await clients.custom.patchNamespacedCustomObject({
        ...CP,
        namespace: ns,
        name: "api",
        body: [{ op: "replace", path: "/spec/routes/0/ttl", value: ttl }],
      });
      const edited = Date.now();
      const policy = await waitForStatus(clients, ns, "api", (p) => condition(p, "Ready")?.status === "True");
      const applied = await waitFor(
        "the sidecar to run the new config",
        async () => (await sidecarHash(sidecar.admin)) === policy.status?.configHash && Date.now(),
        { timeoutMs: 30_000, intervalMs: 10 },
      );
      latencies.push(applied - edited);
    }
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.min(latencies.length - 1, Math.ceil(0.99 * latencies.length) - 1)] as number;
    console.log(
      `policy reload: edit -> sidecar running it: p50 ${latencies[Math.floor(latencies.length / 2)]} ms, p99 ${p99} ms, max ${latencies.at(-1)} ms (${EDITS} edits)`,
    );
    expect(sidecar.child.child.exitCode).toBeNull();
    expect(p99).toBeLessThanOrEqual(TARGET_P99_MS);
  });

  it("a sidecar that starts before its pod's RoleBinding is refused (403), serves the mounted copy, and follows edits once the binding lands", async () => {
    // The Role and RoleBinding follow the pods that run the sidecar (ADR 0017, section 4): a sidecar
    // running as "late", before any pod of that account exists, is refused the watch (403).
    await clients.core.createNamespacedServiceAccount({
      namespace: ns,
      body: { metadata: { name: "late" } },
    });
    const upstreamPort = (upstream.address() as AddressInfo).port;
    const late = await runInjectedSidecar(clients, ns, injectedContainer, {
      upstreamPort,
      serviceAccount: "late",
    });
    try {
      await waitFor("the late sidecar to be refused its ConfigMap watch (403)", () =>
        late.child
          .output()
          .split("\n")
          .some((line) => line.includes("APICACHE_ERR_CONFIGMAP_WATCH") && line.includes("403")),
      );
      expect(await sidecarHash(late.admin)).toBe((await readPolicy(clients, ns, "api")).status?.configHash);
      await clients.core.createNamespacedPod({
        namespace: ns,
        body: appPod("api-late", { app: "api" }, { serviceAccountName: "late" }),
      });
      const rbac = clients.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
      await waitFor("the RoleBinding to name the late pod's service account", async () => {
        const binding = await rbac.readNamespacedRoleBinding({ namespace: ns, name: "apicache-api" });
        return binding.subjects?.some((s) => s.name === "late");
      });
      const bound = Date.now();
      await clients.custom.patchNamespacedCustomObject({
        ...CP,
        namespace: ns,
        name: "api",
        body: [{ op: "replace", path: "/spec/routes/0/ttl", value: "99s" }],
      });
      const edited = Date.now();
      const policy = await waitForStatus(
        clients,
        ns,
        "api",
        (p) =>
          condition(p, "Ready")?.status === "True" && p.status?.observedGeneration === p.metadata.generation,
      );
      // Its retries back off from 500 ms, doubling to 30 s (±50%): once the binding lands, the next
      // retry is at most 45 s away, whatever the host's speed. Bound: that, plus the edit's reconcile.
      await waitFor(
        "the late sidecar to run the edited config",
        async () => (await sidecarHash(late.admin)) === policy.status?.configHash,
        { timeoutMs: 50_000, intervalMs: 50 },
      ).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}\n${late.child.output()}`);
      });
      const running = Date.now();
      const refusals = late.child.output().split("APICACHE_ERR_CONFIGMAP_WATCH").length - 1;
      console.log(
        `policy reload, sidecar started before its binding: ${refusals} refused watch attempts; binding -> sidecar running the next edit: ${running - bound} ms (edit -> running: ${running - edited} ms)`,
      );
    } finally {
      await late.child.stop();
    }
  });

  it("keeps the last good config in the sidecar when the policy becomes invalid", async () => {
    const before = await sidecarHash(sidecar.admin);
    await clients.custom.patchNamespacedCustomObject({
      ...CP,
      namespace: ns,
      name: "api",
      body: [{ op: "replace", path: "/spec/routes/0/tags", value: ["item:{nope}"] }],
    });
    const invalid = await waitForStatus(clients, ns, "api", (p) => condition(p, "Valid")?.status === "False");
    expect(condition(invalid, "Valid")?.reason).toBe("InvalidSpec");
    expect(await sidecarHash(sidecar.admin)).toBe(before);
    expect((await readPolicy(clients, ns, "api")).status?.configHash).toBe(before);
    const response = await fetch(`http://127.0.0.1:${sidecar.listen}/items/1`);
    await response.text();
    expect(response.headers.get("cache-status")).toMatch(/^apicache; hit/);
  });
});
