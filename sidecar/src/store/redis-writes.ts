import { randomBytes } from "node:crypto";
import type { Cluster, Redis } from "ioredis";
import { encodeValue } from "./redis-envelope.js";
import {
  entryKey,
  FENCE_MAX_AGE_MS,
  FENCED_SET_LUA,
  GENERATION_ENSURE_LUA,
  GENERATION_TTL_MS,
  generationKey,
  TAG_ADD_LUA,
  tagKey,
} from "./redis-layout.js";
import type { Fence } from "./types.js";

/**
 * How RedisBackedStore reads generations, writes entries and fences them (the layout and the scripts
 * are in redis-layout.ts). Every command here touches one key, except the standalone-only MGET and
 * fenced-set script, which declare all of their keys.
 */
export interface EntryWrite {
  /** The entry key without prefix (the tag sets' member). */
  readonly key: string;
  readonly value: Buffer;
  readonly ttlMs: number;
  /** Tag set and generation lifetime: the entry's plus the expiry slack. */
  readonly tagTtlMs: number;
  /** De-duplicated. */
  readonly tags: readonly string[];
  /** The writer's clock (ms since the epoch) at the write. */
  readonly now: number;
}

export interface CheckedFence extends Fence {
  readonly generations: readonly string[];
}

interface WriteCommands {
  apicacheTagAdd(key: string, member: string, ttlMs: number): Promise<number>;
  apicacheGenerationEnsure(key: string, token: string, ttlMs: number): Promise<string>;
  apicacheFencedSet(numberOfKeys: number, ...args: (string | number | Buffer)[]): Promise<number>;
}

export function defineWriteCommands(client: Redis | Cluster, scripted: boolean): void {
  client.defineCommand("apicacheTagAdd", { numberOfKeys: 1, lua: TAG_ADD_LUA });
  client.defineCommand("apicacheGenerationEnsure", { numberOfKeys: 1, lua: GENERATION_ENSURE_LUA });
  if (scripted) client.defineCommand("apicacheFencedSet", { lua: FENCED_SET_LUA });
}

function commands(client: Redis | Cluster): WriteCommands {
  return client as unknown as WriteCommands;
}

/** 72 random bits per process: two processes never hand out the same tokens. */
const PROCESS_NONCE = randomBytes(9).toString("base64url");
let tokenCounter = 0;

/**
 * A generation value no process ever handed out before: this process's random nonce and a counter.
 * Never a counter restarting at 0 or a clock a failover could rewind, so a generation re-created
 * after it was lost never equals one an old entry recorded.
 */
export function generationToken(): string {
  tokenCounter++;
  return `${PROCESS_NONCE}.${tokenCounter.toString(36)}`;
}

/**
 * The tags' current generations (in order), creating missing ones with fresh tokens and making each
 * live at least `ttlMs`: what a fence records, and what an entry written now records.
 */
export async function ensureGenerations(
  client: Redis | Cluster,
  prefix: string,
  tags: readonly string[],
  ttlMs = GENERATION_TTL_MS,
): Promise<string[]> {
  return Promise.all(
    tags.map((tag) =>
      commands(client).apicacheGenerationEnsure(generationKey(prefix, tag), generationToken(), ttlMs),
    ),
  );
}

/**
 * The tags' current generations, null where missing, read without writing: one MGET on standalone
 * Redis, one GET per tag on a cluster (different slots), in the caller's round trip.
 */
export function readGenerations(
  client: Redis | Cluster,
  prefix: string,
  tags: readonly string[],
  multiKey: boolean,
): Promise<(string | null)[]> {
  if (tags.length === 0) return Promise.resolve([]);
  const keys = tags.map((tag) => generationKey(prefix, tag));
  if (multiKey) return client.mget(...keys);
  return Promise.all(keys.map((key) => client.get(key)));
}

/** Drops the tags' generations: the first step of every tag invalidation on a cluster. */
export async function dropGenerations(
  client: Redis | Cluster,
  prefix: string,
  tags: readonly string[],
): Promise<void> {
  await Promise.all(tags.map((tag) => client.unlink(generationKey(prefix, tag))));
}

/** Whether a fence is too old to be checked (a fill may not take longer to store). */
export function fenceTooOld(fence: Fence, now = performance.now()): boolean {
  return now - fence.takenAt > FENCE_MAX_AGE_MS;
}

/** The envelope of a write whose tags have these generations. */
function envelope(write: EntryWrite, generations: readonly string[]): Buffer {
  return encodeValue(write.value, {
    tags: write.tags,
    generations,
    writtenAt: write.now,
    expiresAt: write.now + write.ttlMs,
  });
}

/**
 * Unfenced: the tags' current generations (created if missing, extended to the entry's lifetime),
 * then the entry recording them and its tag memberships. Two round trips; an invalidation in between
 * leaves an entry no read accepts.
 */
export async function writeEntry(client: Redis | Cluster, prefix: string, write: EntryWrite): Promise<void> {
  const generations = await ensureGenerations(client, prefix, write.tags, write.tagTtlMs);
  await Promise.all([
    ...indexUnderTags(client, prefix, write),
    setEntry(client, prefix, write, envelope(write, generations)),
  ]);
}

/**
 * The generations a fenced write records and checks: the fence's, for every tag it covers (the
 * fence and the write normally have the same tags); for a write tag the fence does not cover, its
 * current generation (one more round trip, only then).
 */
async function fencedGenerations(
  client: Redis | Cluster,
  prefix: string,
  write: EntryWrite,
  fence: CheckedFence,
): Promise<{ tags: string[]; expected: string[]; recorded: string[] }> {
  const expectedOf = new Map(fence.tags.map((tag, index) => [tag, fence.generations[index] as string]));
  const uncovered = write.tags.filter((tag) => !expectedOf.has(tag));
  const current = await ensureGenerations(client, prefix, uncovered, write.tagTtlMs);
  for (const [index, tag] of uncovered.entries()) expectedOf.set(tag, current[index] as string);
  const tags = [...expectedOf.keys()];
  return {
    tags,
    expected: tags.map((tag) => expectedOf.get(tag) as string),
    recorded: write.tags.map((tag) => expectedOf.get(tag) as string),
  };
}

/** Standalone: check and write atomically in one script (FENCED_SET_LUA). */
export async function writeFencedScripted(
  client: Redis | Cluster,
  prefix: string,
  write: EntryWrite,
  fence: CheckedFence,
): Promise<boolean> {
  const { tags, expected, recorded } = await fencedGenerations(client, prefix, write, fence);
  const keys = [
    entryKey(prefix, write.key),
    ...write.tags.map((tag) => tagKey(prefix, tag)),
    ...tags.map((tag) => generationKey(prefix, tag)),
  ];
  const args = [write.tags.length, envelope(write, recorded), write.ttlMs, write.tagTtlMs, write.key];
  return (await commands(client).apicacheFencedSet(keys.length, ...keys, ...args, ...expected)) === 1;
}

/**
 * Cluster (an entry and its tags' generations live in different slots), or a Redis that refuses
 * multi-key scripts: check the fence while extending the generations to the entry's lifetime and
 * indexing the entry under its tags, then write the entry only if the fence held. An invalidation
 * that lands between the check and the write drops a generation the entry recorded, so no read
 * accepts the entry: there is no window in which it can be served.
 */
export async function writeFencedStepwise(
  client: Redis | Cluster,
  prefix: string,
  write: EntryWrite,
  fence: CheckedFence,
): Promise<boolean> {
  const { tags, expected, recorded } = await fencedGenerations(client, prefix, write, fence);
  const [current] = await Promise.all([
    ensureGenerations(client, prefix, tags, write.tagTtlMs),
    ...indexUnderTags(client, prefix, write),
  ]);
  if (!current.every((generation, index) => generation === expected[index])) return false;
  await setEntry(client, prefix, write, envelope(write, recorded));
  return true;
}

function indexUnderTags(client: Redis | Cluster, prefix: string, write: EntryWrite): Promise<number>[] {
  return write.tags.map((tag) =>
    commands(client).apicacheTagAdd(tagKey(prefix, tag), write.key, write.tagTtlMs),
  );
}

function setEntry(
  client: Redis | Cluster,
  prefix: string,
  write: EntryWrite,
  stored: Buffer,
): Promise<unknown> {
  return client.set(entryKey(prefix, write.key), stored, "PX", write.ttlMs);
}
