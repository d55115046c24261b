import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestNamespace, type KubeClients } from "../../../testkit/src/kube/client.js";
import { e2eClients, e2eKubeconfigPath } from "../../../testkit/src/kube/e2e-context.js";
import { waitFor } from "../../../testkit/src/wait.js";
import {
  CP,
  condition,
  createPolicy,
  deleteWebhookConfiguration,
  injectionNamespace,
  installCrd,
  policyManifest,
  startTestOperator,
  type TestOperator,
  waitForStatus,
} from "./harness.js";

const LEASE_DURATION_MS = 4_000; // --lease-duration in the harness
const RENEW_DEADLINE_MS = 3_000; // --renew-deadline in the harness

/**
 * A TCP relay to the API server that can be frozen: a network partition between one replica and
 * the API server. While frozen, bytes in either direction are held (new connections too); on thaw
 * they are delivered, except on connections the replica closed meanwhile (an aborted request).
 */
class Partition {
  private frozen = false;
  private readonly held: (() => void)[] = [];
  private readonly sockets = new Set<Socket>();
  private constructor(private readonly server: Server) {}

  static async start(upstream: URL): Promise<{ partition: Partition; port: number }> {
    const server = createServer();
    const partition = new Partition(server);
    server.on("connection", (client) => partition.relay(client, upstream));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    return { partition, port: typeof address === "object" && address ? address.port : 0 };
  }

  freeze(): void {
    this.frozen = true;
  }

  thaw(): void {
    this.frozen = false;
    for (const deliver of this.held.splice(0)) deliver();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private gate(deliver: () => void): void {
    if (this.frozen) this.held.push(deliver);
    else deliver();
  }

  private relay(client: Socket, upstream: URL): void {
    const server = tcpConnect(Number(upstream.port), upstream.hostname);
    for (const socket of [client, server]) {
      this.sockets.add(socket);
      socket.on("error", () => undefined);
      socket.on("close", () => {
        this.sockets.delete(socket);
        client.destroy();
        server.destroy();
      });
    }
    const forward = (to: Socket) => (data: Buffer) =>
      this.gate(() => {
        if (!to.destroyed) to.write(data);
      });
    client.on("data", forward(server));
    server.on("data", forward(client));
  }
}

async function reconciles(operator: TestOperator, result?: "success"): Promise<number> {
  const metric = await operator.handle.metrics.reconcileTotal.get();
  return metric.values
    .filter((v) => (result ? v.labels.result === result : v.labels.result !== "requeue"))
    .reduce((sum, v) => sum + v.value, 0);
}

describe("a leader cut off from the API server (frozen)", () => {
  let clients: KubeClients;
  let partition: Partition;
  let frozen: TestOperator;
  let other: TestOperator;
  let ns: string;
  let bothLed = false;
  let sampler: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    clients = e2eClients();
    await installCrd(clients);
    const opNamespace = await createTestNamespace(clients, "apicache-op");
    ns = await injectionNamespace(clients, "frozen");
    const kubeconfig = e2eKubeconfigPath();
    const text = readFileSync(kubeconfig, "utf8");
    const server = /server:\s*(\S+)/.exec(text)?.[1] ?? "";
    const started = await Partition.start(new URL(server));
    partition = started.partition;
    const relayed = new URL(server);
    relayed.port = String(started.port);
    const relayedConfig = join(mkdtempSync(join(tmpdir(), "apicache-frozen-")), "kubeconfig");
    writeFileSync(relayedConfig, text.replace(server, relayed.origin));
    const common = { namespace: opNamespace, group: "frozen" };
    frozen = await startTestOperator({ ...common, kubeconfig: relayedConfig, identity: "replica-frozen" });
    await waitFor("the first replica to lead", () => frozen.handle.isLeader(), { timeoutMs: 15_000 });
    other = await startTestOperator({ ...common, kubeconfig, identity: "replica-other" });
    sampler = setInterval(() => {
      if (frozen.handle.isLeader() && other.handle.isLeader()) bothLed = true;
    }, 10);
  });

  afterAll(async () => {
    clearInterval(sampler);
    partition?.thaw();
    await Promise.all([frozen, other].map((r) => r?.stop({ release: false }).catch(() => undefined)));
    await partition?.close();
    await deleteWebhookConfiguration(clients, frozen?.configurationName ?? "");
  });

  it("stops acting within the renew deadline, before the other replica takes over, and writes nothing when it thaws", async () => {
    await createPolicy(clients, policyManifest("api", ns));
    await waitForStatus(clients, ns, "api", (p) => condition(p, "Ready")?.status === "True");
    // The status is written inside the reconcile; the metric counts it once it returns.
    await waitFor("the first replica to reconcile", async () => (await reconciles(frozen)) > 0);

    const frozenAt = Date.now();
    partition.freeze();
    await waitFor("the frozen leader to stop leading", () => !frozen.handle.isLeader(), {
      timeoutMs: 3 * LEASE_DURATION_MS,
      intervalMs: 10,
    });
    const steppedDownMs = Date.now() - frozenAt;
    await waitFor("the other replica to take over", () => other.handle.isLeader(), {
      timeoutMs: 3 * LEASE_DURATION_MS,
      intervalMs: 10,
    });
    const takeoverMs = Date.now() - frozenAt;
    console.log(
      `frozen leader: stopped leading after ${steppedDownMs} ms, the other replica led after ${takeoverMs} ms (renew deadline ${RENEW_DEADLINE_MS} ms, lease ${LEASE_DURATION_MS} ms)`,
    );
    expect(steppedDownMs).toBeLessThan(LEASE_DURATION_MS); // renew deadline + timer latency
    expect(steppedDownMs).toBeLessThan(takeoverMs);
    expect(takeoverMs).toBeLessThanOrEqual(LEASE_DURATION_MS + 1_500);
    expect(bothLed).toBe(false);

    // While frozen and after thawing, the old leader does no work; the new one does.
    // A reconcile caught by the freeze may end after the thaw, refused (an error): none succeeds.
    const before = await reconciles(frozen, "success");
    partition.thaw();
    const done = await frozen.handle.done;
    expect(done.code).toBe(1);
    await clients.custom.patchNamespacedCustomObject({
      ...CP,
      namespace: ns,
      name: "api",
      body: [{ op: "add", path: "/spec/mode", value: "Shadow" }],
    });
    await waitForStatus(
      clients,
      ns,
      "api",
      (p) =>
        p.status?.observedGeneration === p.metadata?.generation && condition(p, "Ready")?.status === "True",
    );
    await waitFor("the new leader to reconcile", async () => (await reconciles(other)) > 0);
    expect(await reconciles(frozen, "success")).toBe(before);
    expect(frozen.handle.isLeader()).toBe(false);
    expect(bothLed).toBe(false);
  });
});
