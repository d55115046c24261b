import { StoreError } from "./errors.js";

/**
 * Pure description of how apicache lays data out in Redis (shared by the standalone and cluster
 * stores).
 *
 * Keys: `<prefix>:k|<key>` holds an entry, `<prefix>:t|<tag>` is the tag's key set,
 * `<prefix>:g|<tag>` the tag's invalidation generation (see "Generations" below), `<prefix>:d|<key>`
 * the mark of an entry invalidated by key (keyInvalidationKey). A key prefix never contains `|` (nor
 * `{`/`}`, which would pin every key of a tenant to one cluster slot), so the first `|` of any
 * apicache key ends `<prefix>:k`, `:t`, `:g` or `:d`: two stores with different prefixes can never
 * touch each other's keys, and entries never collide with tag sets.
 *
 * Tag sets are sorted sets: member = the entry's key (without prefix), score = when that entry
 * expires (Redis server time, ms) plus a slack. Membership is exact (never a pattern); every write
 * to a tag set first drops members whose entries have expired, and the set itself expires no
 * earlier than its longest-lived member, so tag sets stay as small as the live entries they index.
 *
 * Generations (ADR 0008): every tag has a generation `<prefix>:g|<tag>`, a token unique across
 * all time (generationToken: a per-process random nonce and a counter, never a counter that restarts),
 * created when a fill first needs it and dropped by every invalidation of the tag. Each entry records
 * its tags' generations at fill time (redis-envelope.ts), and a read compares them with the current
 * ones in the same round trip as the entry's GET: a generation that moved or is missing makes the
 * entry a miss. So correctness does not depend on any key surviving: a lost tag set only stops the eager
 * delete (the entry is still a miss), a lost generation invalidates its entries, and a re-created one
 * never matches an old entry. Generations live at least as long as the entries that recorded them
 * (their TTL is extended on every fill), and reads touch them, so an LRU keeps them as hot as their
 * hottest entry.
 *
 * Fences (ADR 0005): a cache fill reads (or creates) its tags' generations before it asks the
 * upstream, and stores only if they are unchanged, recording them in the entry. On standalone Redis
 * the check and the write are one script (FENCED_SET_LUA); on a cluster, where an entry and its tags'
 * generations live in different slots, see writeFencedStepwise: a write that loses the race stores an
 * entry no read will accept.
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
 * Set for a moment (and dropped at once) after the entry `<key>` was deleted by key rather than
 * through a tag (an admin key invalidation): Redis pushes generations and these marks to every pod's
 * L1 (ADR 0018), not entries, or every fill and every drained entry of every pod would be pushed to
 * every pod. KEY_INVALIDATION_MARK_MS bounds the mark if dropping it fails.
 */
export function keyInvalidationKey(prefix: string, key: string): string {
  return `${prefix}:d|${key}`;
}

export const KEY_INVALIDATION_MARK_MS = 1_000;

/**
 * The least a generation lives when a fence creates it (a fill then extends it to its entry's TTL plus
 * the slack). Tokens never repeat, so a fence can be checked at any age; fences older than
 * FENCE_MAX_AGE_MS are still refused, as a bound on how long a fill may take to store.
 */
export const GENERATION_TTL_MS = 10 * 60_000;
export const FENCE_MAX_AGE_MS = GENERATION_TTL_MS / 2;

/**
 * When a generation must be extended (it would expire before an entry that records it, or before
 * GENERATION_TTL_MS for a fence), it is extended this much further than needed. Every change of a
 * generation, an extension included, is pushed to every pod and drops the L1 copies carrying its tag
 * (ADR 0018): extending exactly to what each fill needs would extend on nearly every fill, so the
 * headroom makes that at most once per GENERATION_TTL_MS per tag.
 */
export const GENERATION_EXTENSION_HEADROOM_MS = GENERATION_TTL_MS;

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
 * KEYS[1] a tag's generation; ARGV[1] a fresh token (generationToken), ARGV[2] the least TTL in ms.
 * Returns the current generation, creating it with the fresh token when missing, and makes it live
 * at least ARGV[2] (extended with GENERATION_EXTENSION_HEADROOM_MS to spare when it must be). A missing generation is never re-created at an old value (the token is new), so an
 * entry that recorded the lost one never matches again.
 */
export const GENERATION_ENSURE_LUA = `
local ttl = tonumber(ARGV[2])
local current = redis.call('GET', KEYS[1])
if not current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
  return ARGV[1]
end
if redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('PEXPIRE', KEYS[1], ttl + ${GENERATION_EXTENSION_HEADROOM_MS})
end
return current
`;

/**
 * Standalone only (it reads and deletes keys it cannot declare up front: the entries a tag set
 * names). KEYS: n tag sets, then their n generations; ARGV[1] the entry key prefix (`<prefix>:k|`),
 * ARGV[2] the page size, ARGV[3] 1 on the first call of an invalidation (drop the generations: every
 * entry that recorded them is a miss from now on, whether or not a tag set still names it), 0 on the
 * calls that drain further pages. Atomically (a script runs alone, so "entries gone before members"
 * cannot be observed half-done): drops the generations, reads one page of each tag set, removes
 * exactly those members (the whole set when the page held all of it), unlinks their entries (one
 * UNLINK per 500 keys). Only deletes, so a Redis out of memory still invalidates. The drain frees
 * memory early and counts what it removed; correctness rests on the generations. Returns a flat list
 * of pairs per tag set: entries
 * unlinked (all counted on the first pair) and members left (0: drained), so one round trip
 * invalidates every tag of a write unless a tag indexes more than a page.
 */
export const TAG_DRAIN_LUA = `
local prefix = ARGV[1]
local page = tonumber(ARGV[2])
local tagCount = #KEYS / 2
if ARGV[3] == '1' then
  redis.call('UNLINK', unpack(KEYS, tagCount + 1, 2 * tagCount))
end
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
return out
`;

/**
 * Standalone only: a fill's write, made only if its fence still holds. KEYS[1] the entry, then m tag
 * sets, then g generations. ARGV[1] m, ARGV[2] the value (its envelope records these generations),
 * ARGV[3] its TTL in ms, ARGV[4] the tag TTL (entry TTL plus slack), ARGV[5] the member (the entry key
 * without prefix), then one expected value per generation key. Returns 0, writing nothing, when a
 * generation moved or is gone; otherwise makes every generation live at least the tag TTL (they must
 * outlive the entry that records them; extended with headroom when they must be), writes the entry, indexes it under every tag as TAG_ADD_LUA
 * does, and returns 1.
 */
export const FENCED_SET_LUA = `
local m = tonumber(ARGV[1])
for i = 2 + m, #KEYS do
  if redis.call('GET', KEYS[i]) ~= ARGV[4 + i - m] then return 0 end
end
local ttl = tonumber(ARGV[4])
for i = 2 + m, #KEYS do
  if redis.call('PTTL', KEYS[i]) < ttl then
    redis.call('PEXPIRE', KEYS[i], ttl + ${GENERATION_EXTENSION_HEADROOM_MS})
  end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
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

export { encodeValue } from "./redis-envelope.js";
