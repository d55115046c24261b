import { describe, expect, it } from "vitest";
import { DEFAULT_RECONNECT } from "./reconnect.js";
import { sentinelClientOptions } from "./redis-sentinel-store.js";
import { parseRedisUrl, type SentinelTarget } from "./redis-url.js";

const base = { keyPrefix: "ns/name", commandTimeoutMs: 50 };

function optionsFor(url: string) {
  const target = parseRedisUrl(url) as SentinelTarget;
  const { kind: _kind, ...rest } = target;
  return sentinelClientOptions({ ...base, ...rest });
}

describe("sentinelClientOptions", () => {
  describe("for redis+sentinel:// without credentials", () => {
    const options = optionsFor("redis+sentinel://s1:26379,s2:26380/cache/2");

    it("asks the listed sentinels for the named primary, and only a primary will do", () => {
      expect(options).toMatchObject({
        sentinels: [
          { host: "s1", port: 26379 },
          { host: "s2", port: 26380 },
        ],
        name: "cache",
        role: "master",
        db: 2,
      });
    });

    it("uses no TLS and sends no credentials", () => {
      expect(options.tls).toBeUndefined();
      expect(options.sentinelTLS).toBeUndefined();
      expect(options.enableTLSForSentinelMode).toBeUndefined();
      expect(options).not.toHaveProperty("password");
      expect(options).not.toHaveProperty("sentinelPassword");
    });

    it("fails fast like the standalone client and follows failovers", () => {
      expect(options).toMatchObject({
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        failoverDetector: true,
      });
      expect(options.sentinelRetryStrategy?.(50)).toBeGreaterThan(0);
      expect(options.sentinelReconnectStrategy?.(1)).toBeLessThanOrEqual(2 * DEFAULT_RECONNECT.baseMs);
      expect(options.sentinelReconnectStrategy?.(50)).toBeLessThanOrEqual(
        DEFAULT_RECONNECT.maxMs + DEFAULT_RECONNECT.baseMs,
      );
      expect(options.retryStrategy?.(50)).toBeGreaterThan(0);
    });

    it("reconnects when a demoted primary refuses a write, and on nothing else", () => {
      const readonly = new Error("READONLY You can't write against a read only replica.");
      expect(options.reconnectOnError?.(readonly)).toBe(1);
      expect(options.reconnectOnError?.(new Error("WRONGTYPE Operation against a key"))).toBe(false);
    });
  });

  describe("for rediss+sentinel:// with both sets of credentials", () => {
    const options = optionsFor(
      "rediss+sentinel://app:data-secret@s1/cache?sentinelUsername=watch&sentinelPassword=sentinel-secret",
    );

    it("authenticates to the data nodes with the userinfo and to the sentinels with the parameters", () => {
      expect(options).toMatchObject({
        username: "app",
        password: "data-secret",
        sentinelUsername: "watch",
        sentinelPassword: "sentinel-secret",
      });
    });

    it("speaks TLS to the sentinels and to the data nodes", () => {
      expect(options).toMatchObject({ tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true });
    });
  });
});
