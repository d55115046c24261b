import { StoreError } from "./errors.js";

/**
 * The bytes apicache stores under an entry key in Redis: an envelope around the data path's value
 * that says which tags the entry carries and, for each, the tag's generation when the entry was
 * filled (ADR 0008). A reader compares those with the current generations: one that moved or is
 * missing makes the entry a miss, so no lost key (a tag set, a generation) can make Redis serve an
 * entry a write invalidated.
 *
 * Version 3: `0xAC 0x03 <u16 meta length> <f64 written-at ms> <f64 expires-at ms> <meta> <value>`,
 * meta being `[[tags…],[generations…]]` as JSON (absent when the entry has no tag). Times are the
 * writer's clock: written-at feeds the pending-invalidation guard (pending-invalidations.ts),
 * expires-at the L1 copy's lifetime (so a hit needs no PTTL). Versions 1 and 2 (no generations)
 * still decode, without generations: a reader cannot validate them and treats them as misses.
 */
export interface EnvelopeFields {
  readonly tags: readonly string[];
  /** One per tag, in the same order. */
  readonly generations: readonly string[];
  /** When the writer stored it (its clock, ms since the epoch). */
  readonly writtenAt: number;
  /** When it expires (the writer's clock, ms since the epoch). */
  readonly expiresAt: number;
}

export interface DecodedValue {
  readonly value: Buffer;
  readonly tags: readonly string[];
  /** Absent for version 1 and 2 envelopes (written before entries recorded generations). */
  readonly generations?: readonly string[];
  /** 0 for version-1 envelopes. */
  readonly writtenAt: number;
  /** Absent before version 3. */
  readonly expiresAt?: number;
}

const MAGIC = 0xac;
const VERSION_1 = 0x01;
const VERSION_2 = 0x02;
const VERSION = 0x03;
const HEADER_BYTES: Readonly<Record<number, number>> = { [VERSION_1]: 4, [VERSION_2]: 12, [VERSION]: 20 };
const MAX_META_BYTES = 0xffff;

export function encodeValue(value: Buffer, fields: EnvelopeFields): Buffer {
  const { tags, generations } = fields;
  if (generations.length !== tags.length) {
    throw new Error(`envelope: ${tags.length} tags but ${generations.length} generations`);
  }
  const meta = tags.length === 0 ? Buffer.alloc(0) : Buffer.from(JSON.stringify([tags, generations]));
  if (meta.length > MAX_META_BYTES) {
    throw new StoreError(
      "APICACHE_ERR_STORE_OPTIONS_INVALID",
      `an entry carries ${tags.length} tags (${meta.length} bytes with their generations); the limit is ` +
        `${MAX_META_BYTES} bytes. Use fewer or shorter tags in the route.`,
    );
  }
  const header = Buffer.allocUnsafe(20);
  header[0] = MAGIC;
  header[1] = VERSION;
  header.writeUInt16BE(meta.length, 2);
  header.writeDoubleBE(fields.writtenAt, 4);
  header.writeDoubleBE(fields.expiresAt, 12);
  return Buffer.concat([header, meta, value], header.length + meta.length + value.length);
}

/** The value and what the envelope says of it, or undefined for bytes apicache did not write (a miss). */
export function decodeValue(stored: Buffer): DecodedValue | undefined {
  if (stored.length < 4 || stored[0] !== MAGIC) return undefined;
  const version = stored[1] as number;
  const headerBytes = HEADER_BYTES[version];
  if (headerBytes === undefined || stored.length < headerBytes) return undefined;
  const writtenAt = version === VERSION_1 ? 0 : stored.readDoubleBE(4);
  const expiresAt = version === VERSION ? stored.readDoubleBE(12) : undefined;
  const valueStart = headerBytes + stored.readUInt16BE(2);
  if (valueStart > stored.length || !Number.isFinite(writtenAt)) return undefined;
  if (expiresAt !== undefined && !Number.isFinite(expiresAt)) return undefined;
  const meta = parseMeta(stored.toString("utf8", headerBytes, valueStart), version);
  if (meta === undefined) return undefined;
  return {
    value: stored.subarray(valueStart),
    ...meta,
    writtenAt,
    ...(expiresAt === undefined ? {} : { expiresAt }),
  };
}

/**
 * Whether the generations an entry recorded are all current: `current[i]` is the current generation of
 * `tags[i]` (null when missing). Returns true or false, or the entry's tags missing from `tags`, whose
 * generations the caller must read before it can tell. A missing generation never matches.
 */
export function generationsHold(
  entry: { readonly tags: readonly string[]; readonly generations: readonly string[] },
  tags: readonly string[],
  current: readonly (string | null)[],
): boolean | string[] {
  const recorded = entry.generations;
  // The usual case: the reader named exactly the entry's tags, in the order the fill stored them.
  if (entry.tags.length === tags.length && entry.tags.every((tag, index) => tag === tags[index])) {
    return recorded.every((generation, index) => generation === current[index]);
  }
  const unknown: string[] = [];
  for (const [index, tag] of entry.tags.entries()) {
    const at = tags.indexOf(tag);
    if (at < 0) unknown.push(tag);
    else if (current[at] !== recorded[index]) return false;
  }
  return unknown.length === 0 ? true : unknown;
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

function parseMeta(
  text: string,
  version: number,
): { tags: readonly string[]; generations?: readonly string[] } | undefined {
  if (text === "") return version === VERSION ? { tags: [], generations: [] } : { tags: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (version !== VERSION) return isStrings(parsed) ? { tags: parsed } : undefined;
  if (!Array.isArray(parsed) || parsed.length !== 2) return undefined;
  const [tags, generations] = parsed as unknown[];
  if (!isStrings(tags) || !isStrings(generations) || tags.length !== generations.length) return undefined;
  return { tags, generations };
}
