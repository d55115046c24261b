import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConnectionOptions } from "node:tls";
import { Redis } from "ioredis";
import { freePort } from "./ports.js";
import { spawnTracked } from "./processes.js";
import { createRedisTls } from "./redis-tls.js";
import { waitFor } from "./wait.js";

/**
 * A real `redis-server` on loopback with the security a production Redis has: TLS only (a throwaway
 * CA, redis-tls.ts) and/or a password on the default user (`requirepass`); ACL users are added by the
 * test through `admin()`. No persistence; killed with the test process.
 */
export interface SecureRedisOptions {
  /** Serve only TLS (nothing in the clear). */
  readonly tls?: boolean;
  /** The default user's password (`requirepass`). */
  readonly requirepass?: string;
}

export interface SecureRedis {
  readonly host: string;
  readonly port: number;
  /** `rediss` with TLS, else `redis`: the scheme a URL to this server needs. */
  readonly scheme: "redis" | "rediss";
  /** The CA's PEM file (NODE_EXTRA_CA_CERTS for a sidecar process), with TLS. */
  readonly caFile: string | undefined;
  /** A client as the default user (trusting the CA), for setup and inspection; disconnected by stop(). */
  admin(): Redis;
  stop(): Promise<void>;
}

const HOST = "127.0.0.1";

export async function startSecureRedis(options: SecureRedisOptions = {}): Promise<SecureRedis> {
  const dir = await mkdtemp(join(tmpdir(), "apicache-redis-secure-"));
  const port = await freePort();
  const tls = options.tls ? await createRedisTls(dir) : undefined;
  const args = [
    ...(tls ? tls.serverArgs(port) : ["--port", String(port)]),
    ...["--bind", HOST, "--save", "", "--appendonly", "no", "--dir", dir],
    ...(options.requirepass === undefined ? [] : ["--requirepass", options.requirepass]),
  ];
  const server = spawnTracked("redis-server", args);
  const clientTls: ConnectionOptions | undefined = tls ? { ca: [tls.caPem] } : undefined;
  const clients: Redis[] = [];
  const admin = (): Redis => {
    const client = new Redis({
      host: HOST,
      port,
      ...(options.requirepass === undefined ? {} : { password: options.requirepass }),
      ...(clientTls ? { tls: clientTls } : {}),
      maxRetriesPerRequest: 1,
    });
    client.on("error", () => {});
    clients.push(client);
    return client;
  };
  const stop = async () => {
    for (const client of clients) client.disconnect();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const probe = admin();
    await waitFor(`redis-server on port ${port} to answer PING`, async () => {
      if (server.child.exitCode !== null) throw new Error(`redis-server exited: ${server.output()}`);
      return (await probe.ping().catch(() => "")) === "PONG";
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { host: HOST, port, scheme: tls ? "rediss" : "redis", caFile: tls?.caFile, admin, stop };
}
