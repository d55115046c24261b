import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@apicache/testkit/ports";
import { policyText } from "./harness.js";
import { runSidecar, type SidecarProcess } from "./sidecar-process.js";

/**
 * N sidecar processes in front of one upstream, sharing one store (`--redis URL`): the replicas of
 * one API, as a Deployment scaled to N runs them. Each is its own process (own L1, own Redis
 * connections), so what one knows reaches the others only through Redis.
 */
export interface Replica {
  readonly index: number;
  /** http://127.0.0.1:PORT of its proxy. */
  readonly proxy: string;
  /** http://127.0.0.1:PORT of its admin API (the token is `Replicas.adminToken`). */
  readonly admin: string;
  readonly process: SidecarProcess;
}

export interface Replicas {
  readonly replicas: readonly Replica[];
  readonly adminToken: string;
  /** Kills replica `index` (SIGKILL) and starts it again on the same ports. */
  restart(index: number): Promise<Replica>;
  /** Kills every replica; resolves when all are gone. */
  stop(): Promise<void>;
}

export interface ReplicaOptions {
  readonly count: number;
  readonly upstream: string;
  /** The store every replica shares; omit for per-pod memory stores (no Redis). */
  readonly redisUrl?: string;
  /** The CachePolicy spec (selector and upstream port are filled in by `policyText`). */
  readonly spec: Record<string, unknown>;
  /** Extra command-line flags for every replica. */
  readonly flags?: readonly string[];
  readonly env?: Record<string, string>;
}

export async function startReplicas(options: ReplicaOptions): Promise<Replicas> {
  const dir = await mkdtemp(join(tmpdir(), "apicache-replicas-"));
  const policy = join(dir, "policy.json");
  await writeFile(policy, policyText(options.spec));
  const adminToken = "replicas-admin-token-0123456789abcdef";
  const tokenFile = join(dir, "token");
  await writeFile(tokenFile, adminToken);
  const ports = await Promise.all(
    Array.from({ length: options.count }, async () => ({ proxy: await freePort(), admin: await freePort() })),
  );
  const launch = async (index: number): Promise<Replica> => {
    const port = ports[index] as { proxy: number; admin: number };
    const process = runSidecar(
      [
        ...["--policy", policy, "--upstream", options.upstream],
        ...(options.redisUrl === undefined ? [] : ["--redis", options.redisUrl]),
        ...["--listen", `127.0.0.1:${port.proxy}`, "--admin", `127.0.0.1:${port.admin}`],
        ...["--admin-token-file", tokenFile],
        ...(options.flags ?? []),
      ],
      options.env,
    );
    await process.listening();
    return {
      index,
      proxy: `http://127.0.0.1:${port.proxy}`,
      admin: `http://127.0.0.1:${port.admin}`,
      process,
    };
  };
  // A port found free may be taken by another test's process before this one listens on it: pick
  // others and start again (restart() keeps a replica's ports, as a pod keeps its address).
  const launchOnFreePorts = async (index: number): Promise<Replica> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await launch(index);
      } catch (error) {
        if (attempt >= 3 || !String((error as Error).message).includes("EADDRINUSE")) throw error;
        ports[index] = { proxy: await freePort(), admin: await freePort() };
      }
    }
  };
  const replicas: Replica[] = [];
  try {
    for (let index = 0; index < options.count; index++) replicas.push(await launchOnFreePorts(index));
  } catch (error) {
    await Promise.all(replicas.map((replica) => replica.process.kill()));
    throw error;
  }
  return {
    replicas,
    adminToken,
    async restart(index) {
      await replicas[index]?.process.kill();
      const replica = await launch(index);
      replicas[index] = replica;
      return replica;
    },
    async stop() {
      await Promise.all(replicas.map((replica) => replica.process.kill()));
    },
  };
}
