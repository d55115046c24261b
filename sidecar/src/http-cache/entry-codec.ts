import type { CacheEntry, VaryValue } from "./entry.js";

/**
 * The stored form of an entry: a fixed binary header, a small JSON block (headers, tags, vary values)
 * and the raw body — so decoding a hit never copies or parses the body. Pure.
 *
 *   offset  size  field
 *   0       1     format version (1)
 *   1       2     status (u16)
 *   3       8     storedAt (f64, ms)
 *   11      4     initialAgeSeconds (u32)
 *   15      4     freshMs (u32)
 *   19      4     staleWhileRevalidateMs (u32)
 *   23      4     staleIfErrorMs (u32)
 *   27      4     metadata length M (u32)
 *   31      M     metadata JSON {h: string[], t: string[], v: [name, value|null][]}
 *   31+M    …     body
 */
const VERSION = 1;
const FIXED = 31;
const U32_MAX = 0xffff_ffff;

interface Metadata {
  readonly h: readonly string[];
  readonly t: readonly string[];
  readonly v: readonly VaryValue[];
}

export function encodeEntry(entry: CacheEntry): Buffer {
  const meta = Buffer.from(
    JSON.stringify({ h: entry.headers, t: entry.tags, v: entry.vary } satisfies Metadata),
  );
  // Its own backing store, never a slice of Node's shared pool: L1 keeps these very bytes (no copy, see
  // memory-store.ts owned()) and the decoded form stays remembered for them (proxy/entry-reader.ts).
  const out = Buffer.allocUnsafeSlow(FIXED + meta.length + entry.body.length);
  out.writeUInt8(VERSION, 0);
  out.writeUInt16BE(entry.status, 1);
  out.writeDoubleBE(entry.storedAt, 3);
  out.writeUInt32BE(clampU32(entry.initialAgeSeconds), 11);
  out.writeUInt32BE(clampU32(entry.freshMs), 15);
  out.writeUInt32BE(clampU32(entry.staleWhileRevalidateMs), 19);
  out.writeUInt32BE(clampU32(entry.staleIfErrorMs), 23);
  out.writeUInt32BE(meta.length, 27);
  meta.copy(out, FIXED);
  entry.body.copy(out, FIXED + meta.length);
  return out;
}

/**
 * `entry` with its body as a view into `bytes`, its encoded form (the body is the encoding's tail): what
 * to remember alongside the stored bytes, so the decoded form keeps no buffer but those bytes alive.
 */
export function withBodyIn(bytes: Buffer, entry: CacheEntry): CacheEntry {
  const body = bytes.subarray(bytes.length - entry.body.length);
  return body.buffer === entry.body.buffer && body.byteOffset === entry.body.byteOffset
    ? entry
    : { ...entry, body };
}

/** The entry, or undefined when the bytes are not an entry this version wrote (treated as a miss). */
export function decodeEntry(bytes: Buffer): CacheEntry | undefined {
  if (bytes.length < FIXED || bytes.readUInt8(0) !== VERSION) return undefined;
  const metaLength = bytes.readUInt32BE(27);
  if (FIXED + metaLength > bytes.length) return undefined;
  let meta: Metadata;
  try {
    meta = JSON.parse(bytes.toString("utf8", FIXED, FIXED + metaLength)) as Metadata;
  } catch {
    return undefined;
  }
  if (!Array.isArray(meta.h) || !Array.isArray(meta.t) || !Array.isArray(meta.v)) return undefined;
  return {
    status: bytes.readUInt16BE(1),
    storedAt: bytes.readDoubleBE(3),
    initialAgeSeconds: bytes.readUInt32BE(11),
    freshMs: bytes.readUInt32BE(15),
    staleWhileRevalidateMs: bytes.readUInt32BE(19),
    staleIfErrorMs: bytes.readUInt32BE(23),
    headers: meta.h,
    tags: meta.t,
    vary: meta.v,
    body: bytes.subarray(FIXED + metaLength),
  };
}

function clampU32(value: number): number {
  return Math.max(0, Math.min(U32_MAX, Math.floor(value)));
}
