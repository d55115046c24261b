import { describe, expect, it } from "vitest";
import { decodeValue, encodeValue, generationsHold } from "./redis-envelope.js";

const AT = 1_767_225_600_123;

describe("redis value envelope", () => {
  it.each([
    [Buffer.from("hello"), ["a", "b:{1}"], ["g1", "g2"]],
    [Buffer.alloc(0), [], []],
    [Buffer.from([0xac, 0x03, 0, 0, 255]), ["ü"], ["x.1"]],
  ])("round-trips %o with tags %j and their generations", (value, tags, generations) => {
    const fields = { tags, generations, writtenAt: AT, expiresAt: AT + 60_000 };
    expect(decodeValue(encodeValue(value, fields))).toEqual({ value, ...fields });
  });

  describe("when the envelope predates generations", () => {
    it("reads a version-1 envelope as written at time 0, without generations", () => {
      const v1 = Buffer.concat([Buffer.from([0xac, 0x01, 0, 5]), Buffer.from('["t"]'), Buffer.from("v")]);
      expect(decodeValue(v1)).toEqual({ value: Buffer.from("v"), tags: ["t"], writtenAt: 0 });
    });

    it("reads a version-2 envelope with its write time, without generations", () => {
      const header = Buffer.alloc(12);
      header.set([0xac, 0x02, 0, 5]);
      header.writeDoubleBE(AT, 4);
      const v2 = Buffer.concat([header, Buffer.from('["t"]'), Buffer.from("v")]);
      expect(decodeValue(v2)).toEqual({ value: Buffer.from("v"), tags: ["t"], writtenAt: AT });
    });
  });

  const v3 = (meta: string): Buffer => {
    const header = Buffer.alloc(20);
    header.set([0xac, 0x03]);
    header.writeUInt16BE(Buffer.byteLength(meta), 2);
    return Buffer.concat([header, Buffer.from(meta)]);
  };

  it.each([
    ["a plain string", Buffer.from("plain")],
    ["a truncated header", Buffer.from([0xac, 0x01, 0])],
    ["a tag length past the end", Buffer.from([0xac, 0x01, 0, 9, 1])],
    ["a truncated version-2 header", Buffer.from([0xac, 0x02, 0, 0, 1, 2])],
    ["a truncated version-3 header", Buffer.from([0xac, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
    ["an unknown version", Buffer.from([0xac, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
    [
      "tags that are not a string array",
      Buffer.concat([Buffer.from([0xac, 0x01, 0, 3]), Buffer.from("[1]")]),
    ],
    ["fewer generations than tags", v3('[["a","b"],["g"]]')],
    ["generations that are not strings", v3('[["a"],[1]]')],
    ["meta that is not JSON", v3("[[")],
  ])("treats %s as not apicache's", (_name, stored) => {
    expect(decodeValue(stored)).toBeUndefined();
  });

  it("refuses tags too long for the header", () => {
    const fields = { tags: ["x".repeat(70_000)], generations: ["g"], writtenAt: AT, expiresAt: AT };
    expect(() => encodeValue(Buffer.alloc(1), fields)).toThrow(/APICACHE_ERR_STORE_OPTIONS_INVALID/);
  });
});

describe("checking an entry's recorded generations", () => {
  const entry = { tags: ["a", "b"], generations: ["a1", "b1"] };

  it("holds when every tag's current generation is the recorded one", () => {
    expect(generationsHold(entry, ["a", "b"], ["a1", "b1"])).toBe(true);
    expect(generationsHold(entry, ["b", "x", "a"], ["b1", null, "a1"])).toBe(true);
    expect(generationsHold({ tags: [], generations: [] }, [], [])).toBe(true);
  });

  it("fails when a generation moved, or is missing (lost, or deleted by an invalidation)", () => {
    expect(generationsHold(entry, ["a", "b"], ["a1", "b2"])).toBe(false);
    expect(generationsHold(entry, ["a", "b"], ["a1", null])).toBe(false);
    expect(generationsHold(entry, ["b", "a"], ["b1", null])).toBe(false);
  });

  it("names the tags the reader did not read, unless a read one already failed", () => {
    expect(generationsHold(entry, ["a"], ["a1"])).toEqual(["b"]);
    expect(generationsHold(entry, [], [])).toEqual(["a", "b"]);
    expect(generationsHold(entry, ["a"], ["a2"])).toBe(false);
  });
});
