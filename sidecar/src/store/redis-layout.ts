import { StoreError } from "./errors.js";

/**
 * Pure description of how apicache lays data out in Redis (shared by the standalone and cluster
 * stores).
 *
 * Keys: `<prefix>:k|<key>` holds an entry, `<prefix>:t|<tag>` is the tag's key set,
 * `<prefix>:g|<tag>` the tag's invalidation generation (see "Fences" below). A key prefix
 * never contains `|` (nor `{`/`}`, which would pin every key of a tenant to one cluster slot), so the
 * first `|` of any apicache key ends `<prefix>:k` or `<prefix>:t`: two stores with different prefixes
 * can never touch each other's keys, and entries never collide with tag sets.
 *
 * Tag sets are sorted sets: member = the entry's key (without prefix), score = when that entry
 * expires (Redis server time, ms) plus a slack. Membership is exact (never a pattern); every write
 * to a tag set first drops members whose entries have expired, and the set itself expires no
 * earlier than its longest-lived member, so tag sets stay as small as the live entries they index.
 *
 * Fences: every tag invalidation first increments the tag's generation (an integer that lives
 * GENERATION_TTL_MS after its last increment), then drains the tag set. A cache fill reads its tags'
 * generations before it asks the upstream, and stores only if they are unchanged: a fill that read the
 * upstream before another pod's write cannot store what it read after that write's invalidation. On
 * standalone Redis the check and the write are one script (FENCED_SET_LUA); on a cluster, where an
 * entry and its tags' generations live in different slots, see RedisBackedStore.set.
 *
 * Values: an envelope `0xAC 0x02 <u16 tag-bytes length> <f64 written-at ms> <tags as JSON> <value
 * bytes>`, so a reader (the tiered store filling L1) learns the entry's tags without another round
 * trip, and the pending-invalidation guard can tell entries written before an invalidation it had to
 * drop (see pending-invalidations.ts). Version 1 envelopes (no written-at) still decode, as written
 * at time 0.
 */

export const KEY_PREFIX_PATTERN = /^[^|{}\s]{1,200}$/;

export function validateKeyPrefix(prefix: string): string {
  if (!KEY_PREFIX_PATTERN.test(prefix)) {
    throw new StoreError(
      "APICACHE_ERR_STORE_OPTIONS_INVALID",
      `key prefix "${prefix}" is invalid: use 1-200 characters without "|", "{", "}" or spaces ` +
        "(spec.store.redis.keyPrefix, default <namespace>/<name>).",
    );
  }
  return prefix;
}

export function entryKey(prefix: string, key: string): string {
  return `${prefix}:k|${key}`;
}

export function tagKey(prefix: string, tag: string): string {
  return `${prefix}:t|${tag}`;
}

export function generationKey(prefix: string, tag: string): string {
  return `${prefix}:g|${tag}`;
}

/**
 * How long a tag's generation outlives its last bump. A re-created generation never repeats an old
 * value (it starts at Redis's clock, see BUMP_FUNCTION), but a fence that read "none" would match a
 * generation that was created and expired again during the fill: so a fence older than half the
 * lifetime is not trusted, and such a fill is not stored — which only a fill slower than 5 minutes meets.
 */
export const GENERATION_TTL_MS = 10 * 60_000;
export const FENCE_MAX_AGE_MS = GENERATION_TTL_MS / 2;

/** Added to a tag member's score and to the tag set's TTL: absorbs clock skew between cluster nodes. */
export const TAG_EXPIRY_SLACK_MS = 5_000;

/**
 * KEYS[1] tag set; ARGV[1] member key; ARGV[2] entry TTL in ms (plus slack). Prunes expired members,
 * records the member with its expiry, and makes the set live at least as long as the new member.
 */
export const TAG_ADD_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return 1
`;

/**
 * Lua: bumps a tag's generation. An existing one is incremented; a missing one (never bumped, or
 * expired) starts at Redis's clock in microseconds, so a generation that expired and starts again can
 * never repeat a value a fence read before (an "ABA" would let a pre-write fill through). Renews its
 * lifetime. Errors (a Redis out of memory refuses the write) are swallowed: a fill could not store
 * then either, and the invalidation's deletes must still happen. Returns 1, or 0 when refused.
 */
const BUMP_FUNCTION = `
local function bump(key, ttl)
  local ok = pcall(function()
    if redis.call('EXISTS', key) == 1 then
      redis.call('INCR', key)
    else
      local t = redis.call('TIME')
      redis.call('SET', key, t[1] .. string.format('%06d', tonumber(t[2])))
    end
    redis.call('PEXPIRE', key, ttl)
  end)
  if ok then return 1 end
  return 0
end
`;

/** KEYS[1] a tag's generation; ARGV[1] GENERATION_TTL_MS (see BUMP_FUNCTION). */
export const GENERATION_BUMP_LUA = `${BUMP_FUNCTION}
return bump(KEYS[1], ARGV[1])
`;

/**
 * Standalone only (it reads and deletes keys it cannot declare up front: the entries a tag set
 * names). KEYS: n tag sets, then their n generations; ARGV[1] the entry key prefix (`<prefix>:k|`),
 * ARGV[2] the page size, ARGV[3] GENERATION_TTL_MS on the first call of an invalidation (bump the
 * generations), 0 on the calls that drain further pages. Atomically (a script runs alone, so
 * "entries gone before members" cannot be observed half-done): reads one page
 * of each tag set, removes exactly those members (the whole set when the page held all of it),
 * unlinks their entries (one UNLINK per 500 keys), bumps the generations. Returns a flat list of pairs per tag set: entries
 * unlinked (all counted on the first pair) and members left (0: drained), so one round trip
 * invalidates every tag of a write unless a tag indexes more than a page.
 */
export const TAG_DRAIN_LUA = `${BUMP_FUNCTION}
local prefix = ARGV[1]
local page = tonumber(ARGV[2])
local generationTtl = tonumber(ARGV[3])
local tagCount = #KEYS / 2
local out = {}
local keys = {}
local n = 0
for i = 1, tagCount do
  local tag = KEYS[i]
  local members = redis.call('ZRANGE', tag, 0, page - 1)
  local count = #members
  out[2 * i] = 0
  for j = 1, count do keys[n + j] = prefix .. members[j] end
  n = n + count
  if count == page then
    redis.call('ZREM', tag, unpack(members))
    out[2 * i] = redis.call('ZCARD', tag)
  elseif count > 0 then
    -- The page held every member: dropping the set removes exactly those, in one step.
    redis.call('UNLINK', tag)
  end
end
local removed = 0
for start = 1, n, 500 do
  removed = removed + redis.call('UNLINK', unpack(keys, start, math.min(start + 499, n)))
end
out[1] = removed
for i = 2, tagCount do out[2 * i - 1] = 0 end
-- After the deletes (the script is atomic either way), so a Redis out of memory still deletes.
if generationTtl > 0 then
  for i = 1, tagCount do bump(KEYS[tagCount + i], generationTtl) end
end
return out
`;

/**
 * Standalone only: a fill's write, made only if its fence still holds. KEYS[1] the entry, then m tag
 * sets, then the fenced tags' generations. ARGV[1] m, ARGV[2] the value, ARGV[3] its TTL in ms,
 * ARGV[4] the tag TTL (entry TTL plus slack), ARGV[5] the member (the entry key without prefix), then
 * one value per generation key: what the fence read ("" for none). Returns 0, writing nothing, when a
 * generation moved; otherwise writes the entry, indexes it under every tag as TAG_ADD_LUA does, and
 * returns 1.
 */
export const FENCED_SET_LUA = `
local m = tonumber(ARGV[1])
for i = 2 + m, #KEYS do
  if (redis.call('GET', KEYS[i]) or '') ~= ARGV[4 + i - m] then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[4])
for i = 1, m do
  local tag = KEYS[1 + i]
  redis.call('ZREMRANGEBYSCORE', tag, '-inf', now)
  redis.call('ZADD', tag, now + ttl, ARGV[5])
  if redis.call('PTTL', tag) < ttl then
    redis.call('PEXPIRE', tag, ttl)
  end
end
return 1
`;

const MAGIC = 0xac;
const VERSION_1 = 0x01;
const VERSION = 0x02;
const HEADER_BYTES_V1 = 4;
const HEADER_BYTES = 12;
const MAX_TAG_BYTES = 0xffff;

export interface DecodedValue {
  readonly value: Buffer;
  readonly tags: readonly string[];
  /** When the writer stored it (its clock, ms since the epoch); 0 for version-1 envelopes. */
  readonly writtenAt: number;
}

export function encodeValue(value: Buffer, tags: readonly string[], writtenAt = Date.now()): Buffer {
  const tagBytes = tags.length === 0 ? Buffer.alloc(0) : Buffer.from(JSON.stringify(tags));
  if (tagBytes.length > MAX_TAG_BYTES) {
    throw new StoreError(
      "APICACHE_ERR_STORE_OPTIONS_INVALID",
      `an entry carries ${tags.length} tags (${tagBytes.length} bytes); the limit is ${MAX_TAG_BYTES} bytes. ` +
        "Use fewer or shorter tags in the route.",
    );
  }
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header[0] = MAGIC;
  header[1] = VERSION;
  header.writeUInt16BE(tagBytes.length, 2);
  header.writeDoubleBE(writtenAt, 4);
  return Buffer.concat([header, tagBytes, value], HEADER_BYTES + tagBytes.length + value.length);
}

/** The value and tags, or undefined for bytes apicache did not write (treated as a miss). */
export function decodeValue(stored: Buffer): DecodedValue | undefined {
  if (stored.length < HEADER_BYTES_V1 || stored[0] !== MAGIC) return undefined;
  const version = stored[1];
  if (version !== VERSION && version !== VERSION_1) return undefined;
  const headerBytes = version === VERSION ? HEADER_BYTES : HEADER_BYTES_V1;
  if (stored.length < headerBytes) return undefined;
  const writtenAt = version === VERSION ? stored.readDoubleBE(4) : 0;
  const tagLength = stored.readUInt16BE(2);
  const valueStart = headerBytes + tagLength;
  if (valueStart > stored.length || !Number.isFinite(writtenAt)) return undefined;
  let tags: readonly string[] = [];
  if (tagLength > 0) {
    try {
      const parsed: unknown = JSON.parse(stored.toString("utf8", headerBytes, valueStart));
      if (!Array.isArray(parsed) || !parsed.every((tag) => typeof tag === "string")) return undefined;
      tags = parsed;
    } catch {
      return undefined;
    }
  }
  return { value: stored.subarray(valueStart), tags, writtenAt };
}
