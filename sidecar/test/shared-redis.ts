import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";

/**
 * One real redis-server for the enclosing file or describe block, started in its beforeAll and
 * stopped in its afterAll, with an admin client that tests use to look at what the sidecar wrote.
 */
export interface SharedRedis {
  readonly server: RedisServer;
  readonly admin: Redis;
  /** Restarts the server (empty: no persistence) and gives the admin client a new connection. */
  restart(): Promise<void>;
}

export function sharedRedis(): SharedRedis {
  let server: RedisServer | undefined;
  let admin: Redis | undefined;
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("sharedRedis() was read before its beforeAll ran");
    return value;
  };
  const connectAdmin = async () => {
    const { host, port } = started(server);
    admin = new Redis({ host, port, lazyConnect: true });
    await admin.connect();
  };
  beforeAll(async () => {
    server = await startRedis();
    await connectAdmin();
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });
  return {
    get server() {
      return started(server);
    },
    get admin() {
      return started(admin);
    },
    async restart() {
      started(admin).disconnect();
      await started(server).restart();
      await connectAdmin();
    },
  };
}
