import { describe, expect, it } from "vitest";
import { crc16, hashedPart, keySlot, SLOT_COUNT, slotTag } from "./cluster-slot.js";

describe("cluster slots", () => {
  it("computes CRC16/XMODEM (the check value of the catalogue)", () => {
    expect(crc16(Buffer.from("123456789"))).toBe(0x31c3);
  });

  it.each([
    ["foo", 12182],
    ["bar", 5061],
    ["hello", 866],
    // Multi-byte text and empty tags: Redis hashes the UTF-8 bytes of the whole key (checked against
    // CLUSTER KEYSLOT of Redis 7; ioredis's own slot function puts these two elsewhere).
    ["日é{}é}}", 6212],
    ["{}😀b}{}:b{}a", 10358],
  ])("puts %s in slot %i, as CLUSTER KEYSLOT does", (key, slot) => {
    expect(keySlot(key)).toBe(slot);
  });

  describe("hash tags", () => {
    it.each([
      ["{user1000}.following", "user1000"],
      ["foo{}{bar}", "foo{}{bar}"],
      ["foo{{bar}}zap", "{bar"],
      ["foo{bar}{zap}", "bar"],
      ["no tag}{", "no tag}{"],
    ])("hashes %s as %s", (key, part) => {
      expect(hashedPart(key)).toBe(part);
    });
  });

  it("has a tag for every slot that puts a key in that slot", () => {
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const tag = slotTag(slot);
      expect(tag).not.toMatch(/[{}]/);
      if (keySlot(`any:{${tag}}rest`) !== slot) throw new Error(`tag ${tag} misses slot ${slot}`);
    }
  });

  it("refuses a slot that does not exist", () => {
    expect(() => slotTag(SLOT_COUNT)).toThrow(RangeError);
  });
});
