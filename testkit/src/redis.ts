import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, isPortFree } from "./ports.js";
import { type Spawned, spawnTracked } from "./processes.js";
import { waitFor } from "./wait.js";

/**
 * Real Redis for tests: the Debian `redis-server` on a free loopback port, no persistence, in a temp
 * directory. `make deps` (hack/ensure-system-deps.sh) installs it. Stopped by `stop()`, and killed
 * with the test process whatever happens.
 */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  /** Stops the server; resolves when the process is gone. */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty: no persistence). */
  restart(): Promise<void>;
}

export interface RedisCluster {
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
  /** redis+cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3 */
  readonly url: string;
  stop(): Promise<void>;
}

const HOST = "127.0.0.1";
const run = promisify(execFile);

export async function startRedis(): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), "apicache-redis-"));
  const port = await freePort();
  let process = await launch(port, dir, []);
  return {
    host: HOST,
    port,
    url: `redis://${HOST}:${port}`,
    async stop() {
      await process.stop();
    },
    async restart() {
      await process.stop();
      process = await launch(port, dir, []);
    },
  };
}

/** Three masters on loopback, slots split evenly, waited on until `cluster_state:ok` everywhere. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), "apicache-redis-cluster-"));
  const ports = await clusterPorts(3);
  const processes: Spawned[] = [];
  const stop = async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      const clusterArgs = ["--cluster-enabled", "yes", "--cluster-config-file", `nodes-${port}.conf`];
      processes.push(await launch(port, dir, [...clusterArgs, "--cluster-node-timeout", "2000"]));
    }
    const addresses = ports.map((port) => `${HOST}:${port}`);
    await run("redis-cli", ["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"]);
    for (const port of ports) {
      await waitFor(`Redis Cluster node ${port} to report cluster_state:ok`, async () =>
        (await command(port, "CLUSTER INFO")).includes("cluster_state:ok"),
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    nodes: ports.map((port) => ({ host: HOST, port })),
    url: `redis+cluster://${ports.map((port) => `${HOST}:${port}`).join(",")}`,
    stop,
  };
}

async function launch(port: number, dir: string, extra: readonly string[]): Promise<Spawned> {
  const args = ["--port", String(port), "--bind", HOST, "--save", "", "--appendonly", "no"];
  const server = spawnTracked("redis-server", [...args, "--dir", dir, "--protected-mode", "no", ...extra]);
  try {
    await waitFor(`redis-server on port ${port} to answer PING`, async () => {
      if (server.child.exitCode !== null) throw new Error(`redis-server exited: ${server.output()}`);
      return (await command(port, "PING")).startsWith("+PONG");
    });
  } catch (error) {
    await server.stop();
    const hint = server.output().includes("ENOENT") ? " (install it: make deps)" : "";
    throw new Error(`could not start redis-server${hint}: ${(error as Error).message}`);
  }
  return server;
}

/** Ports P (client) whose cluster bus ports P+10000 are free too. */
async function clusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freePort();
    if (port + 10_000 < 65_536 && !ports.includes(port) && (await isPortFree(port + 10_000)))
      ports.push(port);
  }
  return ports;
}

/** Sends one inline command and resolves with the raw reply (enough for PING and CLUSTER INFO). */
function command(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, HOST);
    let reply = "";
    socket.setTimeout(1_000, () => socket.destroy(new Error("no reply within 1s")));
    socket.once("connect", () => socket.write(`${line}\r\n`));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      if (reply.endsWith("\r\n")) socket.end();
    });
    socket.once("end", () => resolve(reply));
    socket.once("error", reject);
  });
}
