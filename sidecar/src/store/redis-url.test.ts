import { describe, expect, it } from "vitest";
import { parseRedisUrl, redactRedisUrl } from "./redis-url.js";

describe("parseRedisUrl", () => {
  it.each([
    [
      "redis://127.0.0.1:6380",
      { kind: "standalone", node: { host: "127.0.0.1", port: 6380 }, db: 0, tls: false },
    ],
    ["redis://cache", { kind: "standalone", node: { host: "cache", port: 6379 }, db: 0, tls: false }],
    ["rediss://cache:6380/2", { kind: "standalone", node: { host: "cache", port: 6380 }, db: 2, tls: true }],
    [
      "redis://user:p%40ss@cache:6379",
      {
        kind: "standalone",
        node: { host: "cache", port: 6379 },
        db: 0,
        tls: false,
        username: "user",
        password: "p@ss",
      },
    ],
    [
      "redis://:secret@cache",
      { kind: "standalone", node: { host: "cache", port: 6379 }, db: 0, tls: false, password: "secret" },
    ],
    ["redis://[::1]:7000", { kind: "standalone", node: { host: "::1", port: 7000 }, db: 0, tls: false }],
    [
      "redis+cluster://10.0.0.1:7000,10.0.0.2:7001,10.0.0.3",
      {
        kind: "cluster",
        tls: false,
        nodes: [
          { host: "10.0.0.1", port: 7000 },
          { host: "10.0.0.2", port: 7001 },
          { host: "10.0.0.3", port: 6379 },
        ],
      },
    ],
    [
      "rediss+cluster://u:p@a:1,b:2",
      {
        kind: "cluster",
        tls: true,
        username: "u",
        password: "p",
        nodes: [
          { host: "a", port: 1 },
          { host: "b", port: 2 },
        ],
      },
    ],
    [
      "redis+sentinel://10.0.0.1:26380,10.0.0.2/mymaster",
      {
        kind: "sentinel",
        sentinels: [
          { host: "10.0.0.1", port: 26380 },
          { host: "10.0.0.2", port: 26379 },
        ],
        primaryName: "mymaster",
        db: 0,
        tls: false,
      },
    ],
    [
      "rediss+sentinel://app:p%40ss@s1:26379,s2:26379/cache-primary/3?sentinelUsername=watch&sentinelPassword=s%26cret",
      {
        kind: "sentinel",
        sentinels: [
          { host: "s1", port: 26379 },
          { host: "s2", port: 26379 },
        ],
        primaryName: "cache-primary",
        db: 3,
        tls: true,
        username: "app",
        password: "p@ss",
        sentinelUsername: "watch",
        sentinelPassword: "s&cret",
      },
    ],
    [
      "redis+sentinel://:data@[::1]:26379/mymaster/?sentinelPassword=only",
      {
        kind: "sentinel",
        sentinels: [{ host: "::1", port: 26379 }],
        primaryName: "mymaster",
        db: 0,
        tls: false,
        password: "data",
        sentinelPassword: "only",
      },
    ],
  ])("parses %s", (url, expected) => {
    expect(parseRedisUrl(url)).toEqual(expected);
  });

  it.each([
    ["cache:6379", "no scheme"],
    ["http://cache:6379", 'unknown scheme "http"'],
    ["redis://", "host is missing"],
    ["redis://cache:99999", "out of range"],
    ["redis://cache:6379/x", "not a number"],
    ["redis://a:1,b:2", "redis+cluster:// or redis+sentinel://"],
    ["redis+cluster://", "no host:port"],
    ["redis+cluster://a:1/0", "no databases"],
    ["redis+cluster://a:1,b:x", '"b:x" is not host[:port]'],
    ["redis+sentinel://", "no sentinel host:port"],
    ["redis+sentinel://a:26379", "primary name is missing"],
    ["redis+sentinel://a:26379/", "primary name is missing"],
    ["redis+sentinel://a:26379/mymaster/x", 'database "/x" is not a number'],
    ["redis+sentinel://a:26379/mymaster/0/extra", 'database "/0/extra"'],
    ["redis+sentinel://a:26379,b:0/mymaster", "port 0 is out of range"],
    ["redis+sentinel://a:26379/mymaster?sentinelPasword=x", 'unknown parameter "sentinelPasword"'],
    ["redis+sentinel://a:26379/mymaster?sentinelPassword=%zz", "not valid percent-encoding"],
  ])("rejects %s, saying %s", (url, problem) => {
    expect(() => parseRedisUrl(url)).toThrow(problem);
    expect(() => parseRedisUrl(url)).toThrow(/APICACHE_ERR_STORE_URL_INVALID/);
  });

  it("never repeats the password in its error", () => {
    expect(() => parseRedisUrl("redis://user:hunter2@cache:notaport")).toThrow(/user:\*\*\*@/);
    expect(() => parseRedisUrl("redis://user:hunter2@cache:notaport")).not.toThrow(/hunter2/);
    const sentinel = "redis+sentinel://u:hunter2@s:1/m/x?sentinelPassword=hunter3";
    expect(() => parseRedisUrl(sentinel)).toThrow(/u:\*\*\*@s:1\/m\/x\?sentinelPassword=\*\*\*/);
    expect(() => parseRedisUrl(sentinel)).not.toThrow(/hunter/);
  });

  it.each([
    ["redis://u:p?ss@cache:6379", "p?ss"],
    ["redis+sentinel://u:p#ss@s1:26379/m", "p#ss"],
    ["redis+cluster://u:p/?x@a:1,b:2", "p/?x"],
  ])(
    "takes a password with an unencoded ? or # (%s) as it takes one with an unencoded @",
    (url, password) => {
      expect(parseRedisUrl(url)).toMatchObject({ username: "u", password });
    },
  );

  it.each([
    ["redis+sentinel://s:26379/m?password=hunter2", "password"],
    ["redis+sentinel://s:26379/m?sentinel%50assword=hunter2&x=1", "x"],
    ["redis+sentinel://u:hunter2#@s:26379", "primary name"],
  ])("never repeats a secret of %s in its error", (url, problem) => {
    expect(() => parseRedisUrl(url)).toThrow(problem);
    expect(() => parseRedisUrl(url)).not.toThrow(/hunter2/);
  });

  it("names every accepted form when it rejects a URL", () => {
    expect(() => parseRedisUrl("http://cache")).toThrow(
      /redis:\/\/.*rediss:\/\/.*redis\+cluster:\/\/.*redis\+sentinel:\/\/host:port,host:port\/primary-name/,
    );
  });
});

describe("redactRedisUrl", () => {
  it.each([
    ["redis://user:secret@cache:6379", "redis://user:***@cache:6379"],
    ["redis://:secret@cache", "redis://:***@cache"],
    ["redis+cluster://u:p@a:1,b:2", "redis+cluster://u:***@a:1,b:2"],
    ["redis://cache:6379", "redis://cache:6379"],
    [
      "rediss+sentinel://u:a@b@s:1,t:2/m?sentinelUsername=w&sentinelPassword=x@y",
      "rediss+sentinel://u:***@s:1,t:2/m?sentinelUsername=w&sentinelPassword=***",
    ],
    ["redis://u:p?ss@cache:6379", "redis://u:***@cache:6379"],
    ["redis+sentinel://u:p#ss@s:1/m", "redis+sentinel://u:***@s:1/m"],
    ["redis+sentinel://s:1/m?sentinelUsername=me@corp", "redis+sentinel://s:1/m?sentinelUsername=me@corp"],
    [
      "redis+sentinel://s:1/m?password=x&sentinel%50assword=y",
      "redis+sentinel://s:1/m?password=***&sentinel%50assword=***",
    ],
    ["redis+sentinel://s:1/m?sentinelPassword=a#b", "redis+sentinel://s:1/m?sentinelPassword=***#***"],
  ])("redacts %s", (url, expected) => {
    expect(redactRedisUrl(url)).toBe(expected);
  });
});
