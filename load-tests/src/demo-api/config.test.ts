import { describe, expect, it } from "vitest";
import { defaultCacheDir, parseDemoApiConfig } from "./config.js";

describe("parseDemoApiConfig", () => {
  it("defaults to 127.0.0.1:8080, the default size and the per-user cache", () => {
    const result = parseDemoApiConfig([], { HOME: "/home/me" });
    expect(result).toEqual({
      ok: true,
      config: {
        host: "127.0.0.1",
        port: 8080,
        size: "default",
        cacheDir: "/home/me/.cache/apicache",
        logLevel: "info",
        prepareOnly: false,
      },
    });
  });

  it("takes the database URL from DATABASE_URL", () => {
    const result = parseDemoApiConfig(["--size", "small"], { DATABASE_URL: "postgres://u@h/db", HOME: "/h" });
    expect(result.ok && result.config.databaseUrl).toBe("postgres://u@h/db");
  });

  it("lists every problem", () => {
    const result = parseDemoApiConfig(["--listen", "nowhere", "--size", "huge", "--log-level", "loud"], {});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems).toHaveLength(3);
  });

  it("prefers XDG_CACHE_HOME", () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: "/x", HOME: "/h" })).toBe("/x/apicache");
  });
});
