import type { Cluster, Redis } from "ioredis";
import {
  entryKey,
  FENCE_MAX_AGE_MS,
  FENCED_SET_LUA,
  GENERATION_BUMP_LUA,
  GENERATION_TTL_MS,
  generationKey,
  TAG_ADD_LUA,
  tagKey,
} from "./redis-layout.js";
import type { Fence } from "./types.js";

/**
 * How RedisBackedStore writes entries and fences them (the layout and the scripts are in
 * redis-layout.ts). Every command here touches one key, except the standalone-only fenced-set script,
 * which declares all of its keys.
 */
export interface EntryWrite {
  /** The entry key without prefix (the tag sets' member). */
  readonly key: string;
  /** The envelope (encodeValue). */
  readonly stored: Buffer;
  readonly ttlMs: number;
  /** Tag set lifetime: the entry's plus the expiry slack. */
  readonly tagTtlMs: number;
  /** De-duplicated. */
  readonly tags: readonly string[];
}

export interface CheckedFence extends Fence {
  readonly generations: readonly string[];
}

interface WriteCommands {
  apicacheTagAdd(key: string, member: string, ttlMs: number): Promise<number>;
  apicacheGenerationBump(key: string, ttlMs: number): Promise<number>;
  apicacheFencedSet(numberOfKeys: number, ...args: (string | number | Buffer)[]): Promise<number>;
}

export function defineWriteCommands(client: Redis | Cluster, scripted: boolean): void {
  client.defineCommand("apicacheTagAdd", { numberOfKeys: 1, lua: TAG_ADD_LUA });
  client.defineCommand("apicacheGenerationBump", { numberOfKeys: 1, lua: GENERATION_BUMP_LUA });
  if (scripted) client.defineCommand("apicacheFencedSet", { lua: FENCED_SET_LUA });
}

function commands(client: Redis | Cluster): WriteCommands {
  return client as unknown as WriteCommands;
}

/** Each tag's generation, "" for a tag never invalidated (or not within GENERATION_TTL_MS). */
export async function readGenerations(
  client: Redis | Cluster,
  prefix: string,
  tags: readonly string[],
): Promise<string[]> {
  const values = await Promise.all(tags.map((tag) => client.get(generationKey(prefix, tag))));
  return values.map((value) => value ?? "");
}

/** Increments the tags' generations: the first step of every tag invalidation. */
export async function bumpGenerations(
  client: Redis | Cluster,
  prefix: string,
  tags: readonly string[],
): Promise<void> {
  await Promise.all(
    tags.map((tag) => commands(client).apicacheGenerationBump(generationKey(prefix, tag), GENERATION_TTL_MS)),
  );
}

/** Whether a fence is too old to be checked (its generations may have expired and restarted). */
export function fenceTooOld(fence: Fence, now = performance.now()): boolean {
  return now - fence.takenAt > FENCE_MAX_AGE_MS;
}

/** Unfenced: the entry and its tag memberships, in parallel (one round trip per node). */
export async function writeEntry(client: Redis | Cluster, prefix: string, write: EntryWrite): Promise<void> {
  await Promise.all([...indexUnderTags(client, prefix, write), setEntry(client, prefix, write)]);
}

/** Standalone: check and write atomically in one script (FENCED_SET_LUA). */
export async function writeFencedScripted(
  client: Redis | Cluster,
  prefix: string,
  write: EntryWrite,
  fence: CheckedFence,
): Promise<boolean> {
  const keys = [
    entryKey(prefix, write.key),
    ...write.tags.map((tag) => tagKey(prefix, tag)),
    ...fence.tags.map((tag) => generationKey(prefix, tag)),
  ];
  const args = [
    write.tags.length,
    write.stored,
    write.ttlMs,
    write.tagTtlMs,
    write.key,
    ...fence.generations,
  ];
  return (await commands(client).apicacheFencedSet(keys.length, ...keys, ...args)) === 1;
}

/**
 * Cluster (an entry and its tags' generations live in different slots), or a Redis that refuses
 * multi-key scripts: index the entry under its tags and check the fence, write the entry only if it
 * held, then check again and unlink the entry if a generation moved meanwhile. Any invalidation that
 * bumps after the second check drains a tag set that already indexes the entry, so it removes it;
 * one that bumped before is seen by a check. What remains is a window of one round trip, between the
 * write and the unlink, in which another pod may read the entry — instead of the whole fill.
 */
export async function writeFencedStepwise(
  client: Redis | Cluster,
  prefix: string,
  write: EntryWrite,
  fence: CheckedFence,
): Promise<boolean> {
  const holds = async () => {
    const now = await readGenerations(client, prefix, fence.tags);
    return now.every((generation, index) => generation === fence.generations[index]);
  };
  const [heldBefore] = await Promise.all([holds(), ...indexUnderTags(client, prefix, write)]);
  if (!heldBefore) return false;
  await setEntry(client, prefix, write);
  let heldAfter = false;
  try {
    heldAfter = await holds();
  } finally {
    // Unchecked (the check failed) counts as moved: the entry must not outlive a doubt.
    if (!heldAfter) await client.unlink(entryKey(prefix, write.key)).catch(() => 0);
  }
  return heldAfter;
}

function indexUnderTags(client: Redis | Cluster, prefix: string, write: EntryWrite): Promise<number>[] {
  return write.tags.map((tag) =>
    commands(client).apicacheTagAdd(tagKey(prefix, tag), write.key, write.tagTtlMs),
  );
}

function setEntry(client: Redis | Cluster, prefix: string, write: EntryWrite): Promise<unknown> {
  return client.set(entryKey(prefix, write.key), write.stored, "PX", write.ttlMs);
}
