import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, isPortFree } from "@apicache/testkit/ports";
import { type Spawned, spawnTracked } from "@apicache/testkit/processes";
import { waitFor } from "@apicache/testkit/wait";

/**
 * Redis servers for the fault suite, beyond what testkit/src/redis.ts starts: a standalone server that
 * allows DEBUG (for `DEBUG SLEEP`) and can be killed with SIGKILL and started again on its port, and a
 * Redis Cluster of three primaries with one replica each (for a failover). Real `redis-server`
 * processes on loopback, killed with the test process whatever happens (testkit/src/processes).
 */
const HOST = "127.0.0.1";
const run = promisify(execFile);

/** One command through redis-cli; resolves with its reply as text. */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", ["-h", HOST, "-p", String(port), ...args], { timeout: 15_000 });
  return stdout.trim();
}

function launch(port: number, dir: string, extra: readonly string[]): Promise<Spawned> {
  const args = ["--port", String(port), "--bind", HOST, "--save", "", "--appendonly", "no", "--dir", dir];
  const server = spawnTracked("redis-server", [...args, "--protected-mode", "no", ...extra]);
  return waitFor(`redis-server on ${port} to answer PING`, async () => {
    if (server.child.exitCode !== null) throw new Error(`redis-server exited: ${server.output()}`);
    return (await redisCli(port, "PING")) === "PONG" && server;
  });
}

export interface FaultRedis {
  readonly port: number;
  readonly url: string;
  /** SIGKILL: no shutdown, connections reset. */
  kill(): Promise<void>;
  /** Starts it again, empty, on the same port. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startFaultRedis(): Promise<FaultRedis> {
  const dir = await mkdtemp(join(tmpdir(), "apicache-faults-redis-"));
  const port = await freePort();
  const extra = ["--enable-debug-command", "yes"];
  let server = await launch(port, dir, extra);
  return {
    port,
    url: `redis://${HOST}:${port}`,
    async kill() {
      const gone = new Promise((resolve) => server.child.once("exit", resolve));
      server.child.kill("SIGKILL");
      await gone;
    },
    async start() {
      server = await launch(port, dir, extra);
    },
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface FaultRedisCluster {
  /** redis+cluster://h:p,h:p,h:p (the primaries). */
  readonly url: string;
  readonly ports: readonly number[];
  /** The node that is a replica of the primary serving slot 0, promoted with CLUSTER FAILOVER. */
  failover(): Promise<{ promoted: number; demoted: number }>;
  stop(): Promise<void>;
}

async function clusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freePort();
    if (port + 10_000 < 65_536 && !ports.includes(port) && (await isPortFree(port + 10_000)))
      ports.push(port);
  }
  return ports;
}

/** A node's role ("master" or "slave") and, for a replica, its primary's port. */
async function role(port: number): Promise<{ role: string; primary?: number }> {
  const lines = (await redisCli(port, "ROLE")).split("\n");
  return lines[0] === "slave" ? { role: "slave", primary: Number(lines[2]) } : { role: lines[0] ?? "" };
}

/**
 * Three primaries, one replica each, every slot covered and every replica in sync. Started again on
 * other ports when one was taken between clusterPorts() and a node's listen (a full run lost this
 * race once: "bind: Address already in use").
 */
export async function startFaultRedisCluster(): Promise<FaultRedisCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startClusterOnce();
    } catch (error) {
      if (attempt >= 3 || !String((error as Error).message).includes("Address already in use")) throw error;
    }
  }
}

async function startClusterOnce(): Promise<FaultRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), "apicache-faults-cluster-"));
  const ports = await clusterPorts(6);
  const servers: Spawned[] = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      const cluster = ["--cluster-enabled", "yes", "--cluster-config-file", `nodes-${port}.conf`];
      servers.push(await launch(port, dir, [...cluster, "--cluster-node-timeout", "2000"]));
    }
    const addresses = ports.map((port) => `${HOST}:${port}`);
    await run("redis-cli", ["--cluster", "create", ...addresses, "--cluster-replicas", "1", "--cluster-yes"]);
    await waitFor(
      "the Redis Cluster to be ok on every node, every replica in sync",
      async () => {
        for (const port of ports) {
          if (!(await redisCli(port, "CLUSTER", "INFO")).includes("cluster_state:ok")) return false;
          const info = await redisCli(port, "INFO", "replication");
          if (info.includes("role:slave") && !info.includes("master_link_status:up")) return false;
        }
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: `redis+cluster://${ports
      .slice(0, 3)
      .map((port) => `${HOST}:${port}`)
      .join(",")}`,
    ports,
    async failover() {
      const roles = await Promise.all(ports.map(async (port) => ({ port, ...(await role(port)) })));
      const replica = roles.find((r) => r.role === "slave");
      if (!replica?.primary) throw new Error(`no replica: ${JSON.stringify(roles)}`);
      await redisCli(replica.port, "CLUSTER", "FAILOVER");
      await waitFor(
        `replica ${replica.port} to take over from ${replica.primary}`,
        async () =>
          (await role(replica.port)).role === "master" &&
          (await redisCli(replica.port, "CLUSTER", "INFO")).includes("cluster_state:ok"),
        { timeoutMs: 20_000, intervalMs: 50 },
      );
      return { promoted: replica.port, demoted: replica.primary };
    },
    stop,
  };
}
