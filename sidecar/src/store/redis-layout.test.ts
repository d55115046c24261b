import { describe, expect, it } from "vitest";
import { decodeValue, encodeValue, entryKey, tagKey, validateKeyPrefix } from "./redis-layout.js";

describe("redis layout", () => {
  describe("keys", () => {
    it("puts entries and tag sets in separate namespaces under the prefix", () => {
      expect(entryKey("shop/api", "GET /a")).toBe("shop/api:k|GET /a");
      expect(tagKey("shop/api", "slots")).toBe("shop/api:t|slots");
    });

    it("keeps tenants apart even when one prefix extends another", () => {
      expect(entryKey("a", "k|x")).not.toBe(entryKey("a:k", "x"));
      expect(tagKey("a", "x")).not.toBe(entryKey("a:t", "x"));
    });

    it.each(["shop/booking-api", "a", "ns/name.v1:x_y-z"])("accepts the prefix %s", (prefix) => {
      expect(validateKeyPrefix(prefix)).toBe(prefix);
    });

    it.each(["", "a|b", "{tenant}", "a b", "x".repeat(201)])("rejects the prefix %j", (prefix) => {
      expect(() => validateKeyPrefix(prefix)).toThrow(/APICACHE_ERR_STORE_OPTIONS_INVALID/);
    });
  });

  describe("value envelope", () => {
    it.each([
      [Buffer.from("hello"), ["a", "b:{1}"]],
      [Buffer.alloc(0), []],
      [Buffer.from([0xac, 0x01, 0, 0, 255]), ["ü"]],
    ])("round-trips %o with tags %j", (value, tags) => {
      expect(decodeValue(encodeValue(value, tags, 1_767_225_600_123))).toEqual({
        value,
        tags,
        writtenAt: 1_767_225_600_123,
      });
    });

    it("reads a version-1 envelope (no write time) as written at time 0", () => {
      const v1 = Buffer.concat([Buffer.from([0xac, 0x01, 0, 5]), Buffer.from('["t"]'), Buffer.from("v")]);
      expect(decodeValue(v1)).toEqual({ value: Buffer.from("v"), tags: ["t"], writtenAt: 0 });
    });

    it.each([
      ["a plain string", Buffer.from("plain")],
      ["a truncated header", Buffer.from([0xac, 0x01, 0])],
      ["a tag length past the end", Buffer.from([0xac, 0x01, 0, 9, 1])],
      ["a truncated version-2 header", Buffer.from([0xac, 0x02, 0, 0, 1, 2])],
      ["an unknown version", Buffer.from([0xac, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
      [
        "tags that are not a string array",
        Buffer.concat([Buffer.from([0xac, 0x01, 0, 3]), Buffer.from("[1]")]),
      ],
    ])("treats %s as not apicache's", (_name, stored) => {
      expect(decodeValue(stored)).toBeUndefined();
    });

    it("refuses tags too long for the header", () => {
      expect(() => encodeValue(Buffer.alloc(1), ["x".repeat(70_000)])).toThrow(
        /APICACHE_ERR_STORE_OPTIONS_INVALID/,
      );
    });
  });
});
