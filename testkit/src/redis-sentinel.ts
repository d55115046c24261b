import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConnectionOptions } from "node:tls";
import { Redis } from "ioredis";
import { freePort } from "./ports.js";
import { type Spawned, spawnTracked } from "./processes.js";
import { createRedisTls, type RedisTls } from "./redis-tls.js";
import { waitFor } from "./wait.js";

/**
 * Redis Sentinel for tests: one primary, replicas (`--replicaof`) and a quorum of sentinels
 * (`redis-server <conf> --sentinel`: Debian's redis-server runs as a sentinel too), all on free
 * loopback ports in a temp directory, no persistence. Sentinels judge a node down after
 * `downAfterMs` (default 1 s), so a killed primary is replaced within a few seconds. Resolves once
 * every sentinel names the primary, sees every replica and agrees a failover could be authorised.
 * With `tls`, every node and sentinel speaks only TLS (replication and sentinel links too), with a
 * certificate for 127.0.0.1 from a throwaway CA.
 */
export interface RedisNodeAddress {
  readonly host: string;
  readonly port: number;
}

export interface RedisSentinel {
  /** The name the sentinels monitor the primary under. */
  readonly primaryName: string;
  readonly sentinels: readonly RedisNodeAddress[];
  /** Every data node (primary and replicas), in start order: the first was the first primary. */
  readonly nodes: readonly RedisNodeAddress[];
  /** requirepass of the data nodes, if any. */
  readonly password: string | undefined;
  /** requirepass of the sentinels, if any. */
  readonly sentinelPassword: string | undefined;
  /** TLS options a client needs (the CA), when started with `tls`. */
  readonly tls: ConnectionOptions | undefined;
  /** The CA's PEM file, when started with `tls` (NODE_EXTRA_CA_CERTS for a child process). */
  readonly caFile: string | undefined;
  /** redis+sentinel://[:password@]127.0.0.1:S1,…/primaryName[?sentinelPassword=…] (rediss+sentinel with TLS) */
  readonly url: string;
  /** The primary every sentinel names (waits until they agree). */
  primary(): Promise<RedisNodeAddress>;
  /**
   * SENTINEL FAILOVER; resolves with the new primary once every sentinel names it and it says
   * role:master. The old primary may still be a primary then (Sentinel demotes it seconds later), and
   * clients move at `+switch-master`: what they write meanwhile is lost, as in production.
   */
  failover(): Promise<RedisNodeAddress>;
  /** Kills the primary (SIGKILL); resolves with the primary the sentinels elect instead. */
  killPrimary(): Promise<RedisNodeAddress>;
  /** A client of one data node (authenticated); the caller disconnects it. */
  client(node: RedisNodeAddress): Redis;
  stop(): Promise<void>;
}

export interface RedisSentinelOptions {
  readonly replicas?: number;
  readonly sentinels?: number;
  readonly primaryName?: string;
  /** requirepass (and masterauth) of the data nodes. */
  readonly password?: string;
  /** requirepass of the sentinels. */
  readonly sentinelPassword?: string;
  readonly downAfterMs?: number;
  readonly failoverTimeoutMs?: number;
  /** Serve only TLS, everywhere. */
  readonly tls?: boolean;
}

const HOST = "127.0.0.1";

interface Setup {
  readonly dir: string;
  readonly name: string;
  readonly password: string | undefined;
  readonly sentinelPassword: string | undefined;
  readonly tls: RedisTls | undefined;
}

/** How a client reaches a data node or a sentinel: its password, and TLS if the setup uses it. */
interface Access {
  readonly password: string | undefined;
  readonly tls: ConnectionOptions | undefined;
}

const dataAccess = (setup: Setup): Access => ({ password: setup.password, tls: tlsOptions(setup) });
const sentinelAccess = (setup: Setup): Access => ({
  password: setup.sentinelPassword,
  tls: tlsOptions(setup),
});
const tlsOptions = (setup: Setup): ConnectionOptions | undefined =>
  setup.tls === undefined ? undefined : { ca: [setup.tls.caPem] };

export async function startRedisSentinel(options: RedisSentinelOptions = {}): Promise<RedisSentinel> {
  const dir = await mkdtemp(join(tmpdir(), "apicache-redis-sentinel-"));
  const setup: Setup = {
    dir,
    name: options.primaryName ?? "apicache",
    password: options.password,
    sentinelPassword: options.sentinelPassword,
    tls: options.tls ? await createRedisTls(dir) : undefined,
  };
  const nodePorts = await distinctPorts(1 + (options.replicas ?? 2), []);
  const sentinelPorts = await distinctPorts(options.sentinels ?? 3, nodePorts);
  const processes = new Map<number, Spawned>();
  const stop = async () => {
    await Promise.all([...processes.values()].map((p) => p.stop()));
    await rm(setup.dir, { recursive: true, force: true });
  };
  const [primaryPort = 0] = nodePorts;
  try {
    for (const port of nodePorts) {
      const replicaOf = port === primaryPort ? [] : ["--replicaof", HOST, String(primaryPort)];
      processes.set(port, await launch(port, dataArgs(setup, port, replicaOf), dataAccess(setup)));
    }
    const quorum = Math.floor(sentinelPorts.length / 2) + 1;
    for (const port of sentinelPorts) {
      const conf = join(setup.dir, `sentinel-${port}.conf`);
      await writeFile(conf, sentinelConf(setup, { port, primaryPort, quorum, ...options }));
      processes.set(port, await launch(port, [conf, "--sentinel"], sentinelAccess(setup)));
    }
    for (const port of nodePorts.slice(1)) await inSync(setup, { host: HOST, port });
    await settled(setup, sentinelPorts, { host: HOST, port: primaryPort }, nodePorts.length - 1);
  } catch (error) {
    await stop();
    throw error;
  }
  return sentinelHandle(setup, { nodePorts, sentinelPorts, processes, stop });
}

function sentinelHandle(
  setup: Setup,
  parts: {
    nodePorts: readonly number[];
    sentinelPorts: readonly number[];
    processes: Map<number, Spawned>;
    stop: () => Promise<void>;
  },
): RedisSentinel {
  const { nodePorts, sentinelPorts, processes } = parts;
  const agreedPrimary = () => agreed(setup, sentinelPorts);
  const replacing = async (old: RedisNodeAddress) =>
    waitFor(
      `the sentinels to agree on a primary other than ${old.port}`,
      async () => {
        const primary = await agreedPrimary();
        if (primary === undefined || primary.port === old.port) return undefined;
        return (await role(setup, primary)) === "master" ? primary : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
  const userinfo = setup.password === undefined ? "" : `:${encodeURIComponent(setup.password)}@`;
  const query =
    setup.sentinelPassword === undefined
      ? ""
      : `?sentinelPassword=${encodeURIComponent(setup.sentinelPassword)}`;
  return {
    primaryName: setup.name,
    sentinels: sentinelPorts.map((port) => ({ host: HOST, port })),
    nodes: nodePorts.map((port) => ({ host: HOST, port })),
    password: setup.password,
    sentinelPassword: setup.sentinelPassword,
    tls: tlsOptions(setup),
    caFile: setup.tls?.caFile,
    url: `${setup.tls ? "rediss" : "redis"}+sentinel://${userinfo}${sentinelPorts.map((port) => `${HOST}:${port}`).join(",")}/${setup.name}${query}`,
    primary: () => waitFor("the sentinels to agree on the primary", agreedPrimary),
    async failover() {
      const old = await waitFor("the sentinels to agree on the primary", agreedPrimary);
      await withClient({ host: HOST, port: sentinelPorts[0] ?? 0 }, sentinelAccess(setup), (c) =>
        c.call("SENTINEL", "FAILOVER", setup.name),
      );
      return replacing(old);
    },
    async killPrimary() {
      const old = await waitFor("the sentinels to agree on the primary", agreedPrimary);
      const process = processes.get(old.port);
      process?.child.kill("SIGKILL");
      await process?.stop();
      return replacing(old);
    },
    client: (node) => dataClient(setup, node),
    stop: parts.stop,
  };
}

function dataArgs(setup: Setup, port: number, extra: readonly string[]): string[] {
  const auth =
    setup.password === undefined ? [] : ["--requirepass", setup.password, "--masterauth", setup.password];
  // No persistence; a replica syncs at once (diskless, without the default 5 s wait for company).
  const listen = setup.tls === undefined ? ["--port", String(port)] : setup.tls.serverArgs(port);
  const base = [...listen, "--bind", HOST, "--save", "", "--appendonly", "no"];
  const sync = ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"];
  const files = ["--dir", setup.dir, "--dbfilename", `dump-${port}.rdb`, "--protected-mode", "no"];
  return [...base, ...sync, ...files, ...auth, ...extra];
}

function sentinelConf(
  setup: Setup,
  at: { port: number; primaryPort: number; quorum: number; downAfterMs?: number; failoverTimeoutMs?: number },
): string {
  const name = setup.name;
  const lines = [
    ...(setup.tls === undefined ? [`port ${at.port}`] : setup.tls.confLines(at.port)),
    `bind ${HOST}`,
    "protected-mode no",
    `dir ${setup.dir}`,
    `sentinel monitor ${name} ${HOST} ${at.primaryPort} ${at.quorum}`,
    `sentinel down-after-milliseconds ${name} ${at.downAfterMs ?? 1_000}`,
    `sentinel failover-timeout ${name} ${at.failoverTimeoutMs ?? 5_000}`,
    `sentinel parallel-syncs ${name} 2`,
  ];
  if (setup.password !== undefined) lines.push(`sentinel auth-pass ${name} ${setup.password}`);
  if (setup.sentinelPassword !== undefined) {
    lines.push(`requirepass ${setup.sentinelPassword}`, `sentinel sentinel-pass ${setup.sentinelPassword}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The replica has finished its first sync with the primary (else a failover would promote it empty). */
async function inSync(setup: Setup, replica: RedisNodeAddress): Promise<void> {
  await waitFor(
    `replica ${replica.port} to finish its sync with the primary`,
    () =>
      withClient(replica, dataAccess(setup), async (client) =>
        (await client.info("replication")).includes("master_link_status:up"),
      ),
    { timeoutMs: 30_000, intervalMs: 50 },
  );
}

/** Every sentinel names `primary`, lists every replica as up, and can authorise a failover. */
async function settled(
  setup: Setup,
  sentinelPorts: readonly number[],
  primary: RedisNodeAddress,
  replicas: number,
): Promise<void> {
  for (const port of sentinelPorts) {
    const sentinel = { host: HOST, port };
    await waitFor(
      `sentinel ${port} to see the primary ${primary.port}, ${replicas} replicas and a quorum`,
      () =>
        withClient(sentinel, sentinelAccess(setup), async (client) => {
          const address = (await client.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", setup.name)) as string[];
          if (Number(address?.[1]) !== primary.port) return false;
          const listed = (await client.call("SENTINEL", "REPLICAS", setup.name)) as string[][];
          const up = listed.filter((fields) => !/s_down|o_down|disconnected/.test(field(fields, "flags")));
          if (up.length < replicas) return false;
          const quorum = String(await client.call("SENTINEL", "CKQUORUM", setup.name));
          return quorum.startsWith("OK");
        }),
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  }
}

/** The primary every sentinel names, or undefined while they disagree (or one does not answer). */
async function agreed(setup: Setup, sentinelPorts: readonly number[]): Promise<RedisNodeAddress | undefined> {
  const named = await Promise.all(
    sentinelPorts.map((port) =>
      withClient({ host: HOST, port }, sentinelAccess(setup), async (client) => {
        const address = (await client.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", setup.name)) as string[];
        return `${address?.[0]}:${address?.[1]}`;
      }).catch(() => undefined),
    ),
  );
  const first = named[0];
  if (first === undefined || named.some((address) => address !== first)) return undefined;
  const [host = "", port = ""] = first.split(":");
  return { host, port: Number(port) };
}

async function role(setup: Setup, node: RedisNodeAddress): Promise<string | undefined> {
  return withClient(node, dataAccess(setup), async (client) => {
    const reply = (await client.call("ROLE")) as unknown[];
    return String(reply[0]);
  }).catch(() => undefined);
}

function field(fields: readonly string[], name: string): string {
  const index = fields.indexOf(name);
  return index < 0 ? "" : (fields[index + 1] ?? "");
}

function dataClient(setup: Setup, node: RedisNodeAddress): Redis {
  const client = new Redis({
    host: node.host,
    port: node.port,
    ...(setup.password === undefined ? {} : { password: setup.password }),
    ...(setup.tls === undefined ? {} : { tls: tlsOptions(setup) }),
    maxRetriesPerRequest: 1,
  });
  // A node the test stops drops this connection: its commands reject, and the reconnect attempts
  // would otherwise print ioredis's "Unhandled error event" for every try.
  client.on("error", () => {});
  return client;
}

async function withClient<T>(
  node: RedisNodeAddress,
  access: Access,
  work: (client: Redis) => Promise<T>,
): Promise<T> {
  const client = new Redis({
    host: node.host,
    port: node.port,
    ...(access.password === undefined ? {} : { password: access.password }),
    ...(access.tls === undefined ? {} : { tls: access.tls }),
    lazyConnect: true,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1_000,
    commandTimeout: 1_000,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    return await work(client);
  } finally {
    client.disconnect();
  }
}

async function launch(port: number, args: readonly string[], access: Access): Promise<Spawned> {
  const server = spawnTracked("redis-server", args);
  try {
    await waitFor(`redis-server on port ${port} to answer PING`, async () => {
      if (server.child.exitCode !== null) throw new Error(`redis-server exited: ${server.output()}`);
      return (await withClient({ host: HOST, port }, access, (client) => client.ping())) === "PONG";
    });
  } catch (error) {
    await server.stop();
    const hint = server.output().includes("ENOENT") ? " (install it: make deps)" : "";
    throw new Error(`could not start redis-server${hint}: ${(error as Error).message}`);
  }
  return server;
}

async function distinctPorts(count: number, taken: readonly number[]): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freePort();
    if (!ports.includes(port) && !taken.includes(port)) ports.push(port);
  }
  return ports;
}
