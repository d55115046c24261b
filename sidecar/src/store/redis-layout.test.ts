import { describe, expect, it } from "vitest";
import { entryKey, generationKey, tagKey, validateKeyPrefix } from "./redis-layout.js";

describe("redis layout", () => {
  describe("keys", () => {
    it("puts entries and tag sets in separate namespaces under the prefix", () => {
      expect(entryKey("shop/api", "GET /a")).toBe("shop/api:k|GET /a");
      expect(tagKey("shop/api", "slots")).toBe("shop/api:t|slots");
      expect(generationKey("shop/api", "slots")).toBe("shop/api:g|slots");
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
});
