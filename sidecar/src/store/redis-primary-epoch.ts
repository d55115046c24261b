import type { Redis } from "ioredis";
import { clientCommandTimeoutMs, withDeadline } from "./deadline.js";
import type { PrimaryEpoch, PrimaryEpochProbe } from "./failover-horizon-store.js";

/**
 * The Redis side of FailoverHorizonStore: `<prefix>:p|primary` holds "<replid> <horizon ms>", the
 * replication id of the primary that last checked and the horizon entries must be newer than. One
 * script reads and records it atomically, so every sidecar that finds a new primary moves the same
 * shared horizon (the largest wins). The marker expires after `markerTtlMs` without a check; a
 * missing marker counts as a new primary (the safe side: one more refetch).
 */
export const PRIMARY_EPOCH_COMMAND = "apicachePrimaryEpoch";

/** KEYS[1] the marker; ARGV: replid, candidate horizon (ms), marker TTL (ms), switched ("1"/"0"). */
export const PRIMARY_EPOCH_LUA = `
local recorded = redis.call('GET', KEYS[1])
local replid, horizon = '', 0
if recorded then
  local r, h = string.match(recorded, '^(%S+) (%d+)$')
  if r then replid = r; horizon = tonumber(h) end
end
local candidate = tonumber(ARGV[2])
if (replid ~= ARGV[1] or ARGV[4] == '1') and candidate > horizon then horizon = candidate end
local text = string.format('%.0f', horizon)
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. text, 'PX', ARGV[3])
return text
`;

export function primaryEpochKey(prefix: string): string {
  return `${prefix}:p|primary`;
}

interface PrimaryEpochCommand {
  apicachePrimaryEpoch(
    key: string,
    replid: string,
    candidate: number,
    ttlMs: number,
    switched: number,
  ): Promise<string>;
}

export interface RedisPrimaryEpochOptions {
  readonly keyPrefix: string;
  readonly commandTimeoutMs: number;
  /**
   * Added to the horizon (default 0). The entries a failover can wrongly bring back were written
   * before the promotion, at least the failover's duration (about a second or more) before any
   * sidecar records a horizon, so clocks that differ by less than that need no allowance; a positive
   * value costs refills for that long after every failover.
   */
  readonly skewMs?: number;
  /** Marker lifetime without a check (default 7 days). */
  readonly markerTtlMs?: number;
  readonly now?: () => number;
}

export function redisPrimaryEpoch(client: Redis, options: RedisPrimaryEpochOptions): PrimaryEpochProbe {
  client.defineCommand(PRIMARY_EPOCH_COMMAND, { numberOfKeys: 1, lua: PRIMARY_EPOCH_LUA });
  const key = primaryEpochKey(options.keyPrefix);
  const now = options.now ?? Date.now;
  const ms = clientCommandTimeoutMs(options.commandTimeoutMs);
  const bounded = <T>(work: Promise<T>): Promise<T> =>
    withDeadline(work, ms, () => new Error(`primary check timed out after ${ms} ms`));
  return {
    onReady: (listener) => client.on("ready", listener),
    async check(previous): Promise<PrimaryEpoch> {
      const info = await bounded(client.info("replication"));
      const replid = /^master_replid:(\S+)/m.exec(info)?.[1];
      if (replid === undefined) throw new Error("INFO replication named no master_replid");
      const switched = previous !== undefined && previous !== replid ? 1 : 0;
      const candidate = now() + (options.skewMs ?? 0);
      const command = client as unknown as PrimaryEpochCommand;
      const ttl = options.markerTtlMs ?? 7 * 24 * 3_600_000;
      const horizon = await bounded(command.apicachePrimaryEpoch(key, replid, candidate, ttl, switched));
      return { replid, horizon: Number(horizon) };
    },
    async read(): Promise<number> {
      const recorded = await bounded(client.get(key));
      return Number(/^\S+ (\d+)$/.exec(recorded ?? "")?.[1] ?? 0);
    },
  };
}
