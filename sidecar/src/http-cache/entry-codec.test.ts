import { describe, expect, it } from "vitest";
import type { CacheEntry } from "./entry.js";
import { decodeEntry, encodeEntry } from "./entry-codec.js";

const entry: CacheEntry = {
  status: 200,
  headers: ["content-type", "application/json", "etag", '"v1"', "x-multi", "a", "x-multi", "b"],
  body: Buffer.from('{"slots":[1,2,3]}'),
  storedAt: 1_700_000_000_123,
  initialAgeSeconds: 7,
  freshMs: 60_000,
  staleWhileRevalidateMs: 30_000,
  staleIfErrorMs: 600_000,
  tags: ["slots", "barber:42", "~path:/api/v2/barbers/42/slots"],
  vary: [
    ["accept-language", "de"],
    ["accept-encoding", null],
  ],
};

describe("the entry codec", () => {
  it("round-trips every field", () => {
    expect(decodeEntry(encodeEntry(entry))).toEqual(entry);
  });

  it("round-trips an empty body and binary bodies byte for byte", () => {
    const binary = Buffer.from([0, 255, 1, 254, 0x7b]);
    expect(decodeEntry(encodeEntry({ ...entry, body: Buffer.alloc(0) }))?.body.length).toBe(0);
    expect(decodeEntry(encodeEntry({ ...entry, body: binary }))?.body.equals(binary)).toBe(true);
  });

  it("hands out the body without copying it", () => {
    const bytes = encodeEntry(entry);
    const decoded = decodeEntry(bytes);
    expect(decoded?.body.buffer).toBe(bytes.buffer);
  });

  it.each([
    ["empty bytes", Buffer.alloc(0)],
    ["another version", Buffer.concat([Buffer.from([9]), encodeEntry(entry).subarray(1)])],
    ["a truncated metadata block", encodeEntry(entry).subarray(0, 40)],
    ["garbage", Buffer.from("not an entry at all, just some text here")],
  ])("treats %s as no entry", (_name, bytes) => {
    expect(decodeEntry(bytes)).toBeUndefined();
  });
});
