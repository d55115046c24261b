import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { INVALIDATION_CHANNEL } from "./invalidation-channel.js";
import { fillChannel, fillLeaseKey, warmLeaseKey } from "./lease-layout.js";
import { aclFileLine, escapeGlob, KEY_STEMS, REDIS_ACL_COMMANDS, redisAclRule } from "./redis-acl.js";
import { entryKey, generationKey, keyInvalidationKey, tagKey } from "./redis-layout.js";
import { primaryEpochKey } from "./redis-primary-epoch.js";

const STORE = dirname(fileURLToPath(import.meta.url));
const SECURITY_DOC = join(STORE, "..", "..", "..", "docs", "security.md");

/** Every key family the store's sources spell as `${prefix}:<letter>|`, wherever a new one is added. */
function familiesInSources(): string[] {
  const sources = readdirSync(STORE).filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"));
  const found = sources.flatMap((file) => [
    ...readFileSync(join(STORE, file), "utf8").matchAll(/\$\{prefix\}(:[a-z]\|)/g),
  ]);
  return [...new Set(found.map((match) => match[1] as string))].sort();
}

/** Redis's glob (stringmatchlen) for the subset ACL patterns use: `*`, `?` and backslash escapes. */
function globMatches(pattern: string, text: string): boolean {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const character = pattern[i] as string;
    if (character === "\\") source += escapeRegExp(pattern[++i] ?? "");
    else if (character === "*") source += "[\\s\\S]*";
    else if (character === "?") source += "[\\s\\S]";
    else source += escapeRegExp(character);
  }
  return new RegExp(`^${source}$`).test(text);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

const keyPatterns = (rule: readonly string[]) =>
  rule.filter((token) => token.startsWith("~")).map((token) => token.slice(1));
const channelPatterns = (rule: readonly string[]) =>
  rule.filter((token) => token.startsWith("&")).map((token) => token.slice(1));
const allowed = (patterns: readonly string[], name: string) =>
  patterns.some((pattern) => globMatches(pattern, name));

/** One key of every family the sidecar writes under `prefix` (redis-layout.ts, lease-layout.ts). */
function everyKeyOf(prefix: string): string[] {
  const key = "GET|http|api.test|/items/1?a=1|public";
  return [
    entryKey(prefix, key),
    tagKey(prefix, "path:/items/1"),
    generationKey(prefix, "slots"),
    keyInvalidationKey(prefix, key),
    fillLeaseKey(prefix, key),
    warmLeaseKey(prefix, { path: "/warm", host: "api.test" }, 123),
    primaryEpochKey(prefix),
  ];
}

describe("redisAclRule", () => {
  it("covers every key family the store's sources write, a new one included", () => {
    expect(familiesInSources().length).toBeGreaterThanOrEqual(7);
    expect(familiesInSources().filter((family) => !KEY_STEMS.includes(family))).toEqual([]);
  });

  describe("for one key prefix", () => {
    const rule = redisAclRule({ keyPrefixes: ["shop/booking-api"] });

    it.each(everyKeyOf("shop/booking-api"))("allows the sidecar's key %s", (key) => {
      expect(allowed(keyPatterns(rule), key)).toBe(true);
    });

    it.each([
      "shop/booking-api:x",
      "shop/booking",
      "shop/booking-api2",
      "other/booking-api",
      "shop/booking-api:k",
    ])("allows no key of the neighbouring prefix %s", (prefix) => {
      expect(everyKeyOf(prefix).filter((key) => allowed(keyPatterns(rule), key))).toEqual([]);
    });

    it("allows its own fill channel and the invalidation channel, no other", () => {
      const channels = channelPatterns(rule);
      expect(allowed(channels, fillChannel("shop/booking-api"))).toBe(true);
      expect(allowed(channels, INVALIDATION_CHANNEL)).toBe(true);
      expect(allowed(channels, fillChannel("shop/other-api"))).toBe(false);
    });

    it("publishes only on its fill channel (a selector), never on __redis__:invalidate", () => {
      expect(rule.filter((token) => token.includes("publish"))).toEqual([
        "(+publish &shop/booking-api:fills)",
      ]);
    });

    it("denies every command it does not list", () => {
      expect(rule).toContain("-@all");
      expect(rule.filter((token) => token.startsWith("+@"))).toEqual([]);
      expect(rule).not.toContain("+keys");
      expect(rule).not.toContain("+scan");
      expect(rule).not.toContain("+flushall");
    });
  });

  describe("for a namespace", () => {
    const rule = redisAclRule({ namespace: "shop" });

    it.each(["shop/booking-api", "shop/catalog", "shop/a:b"])(
      "allows every key of the default prefix %s",
      (prefix) => {
        expect(everyKeyOf(prefix).filter((key) => !allowed(keyPatterns(rule), key))).toEqual([]);
        expect(allowed(channelPatterns(rule), fillChannel(prefix))).toBe(true);
      },
    );

    it.each(["shopping/api", "other/shop", "shop", "test/shop/api"])(
      "allows no key of prefix %s",
      (prefix) => {
        expect(everyKeyOf(prefix).filter((key) => allowed(keyPatterns(rule), key))).toEqual([]);
        expect(allowed(channelPatterns(rule), fillChannel(prefix))).toBe(false);
      },
    );

    it("refuses a namespace that is not a Kubernetes name", () => {
      expect(() => redisAclRule({ namespace: "a*" })).toThrow(/namespace/);
    });
  });

  it("escapes glob characters of a literal prefix", () => {
    const rule = redisAclRule({ keyPrefixes: ["odd*prefix?"] });
    expect(allowed(keyPatterns(rule), entryKey("odd*prefix?", "x"))).toBe(true);
    expect(allowed(keyPatterns(rule), entryKey("oddXXprefix!", "x"))).toBe(false);
    expect(escapeGlob("a[b]\\c")).toBe("a\\[b\\]\\\\c");
  });

  it("leaves CLIENT TRACKING and __redis__:invalidate out without L1 push", () => {
    const rule = redisAclRule({ namespace: "shop", l1Push: false });
    expect(rule).not.toContain("+client|tracking");
    expect(channelPatterns(rule)).toEqual(["shop/*:fills"]);
  });

  it("adds what a cluster needs only for a cluster", () => {
    expect(redisAclRule({ namespace: "shop" })).not.toContain("+cluster|slots");
    expect(redisAclRule({ namespace: "shop", topology: "cluster" })).toContain("+cluster|slots");
  });

  it("adds CLIENT SETINFO only for a Redis that knows it (7.2+)", () => {
    expect(redisAclRule({ namespace: "shop" })).not.toContain("+client|setinfo");
    expect(redisAclRule({ namespace: "shop", redisVersion: "7.2" })).toContain("+client|setinfo");
    expect(redisAclRule({ namespace: "shop", redisVersion: "8.0" })).toContain("+client|setinfo");
  });

  it.each(REDIS_ACL_COMMANDS.map((entry) => entry.command))(
    "has %s explained in docs/security.md's table",
    (command) => {
      const doc = readFileSync(SECURITY_DOC, "utf8");
      expect(doc).toContain(`\n| \`${command.toUpperCase().replace("|", " ")}\` |`);
    },
  );

  it("is the rule docs/security.md shows", () => {
    const doc = readFileSync(SECURITY_DOC, "utf8");
    const example = aclFileLine("apicache-shop", "PASSWORD", redisAclRule({ namespace: "shop" }));
    expect(doc).toContain(`\n${example}\n`);
  });
});
