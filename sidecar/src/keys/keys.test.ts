import { describe, expect, it } from "vitest";
import type { CompiledIdentity } from "../routing/compile-policy.js";
import { cacheKey, type KeyParts, MAX_KEY_LENGTH, pathTag } from "./cache-key.js";
import { fillHeaders } from "./fill-request.js";
import { cookieValue, identityHash, isIdentifying } from "./identity.js";
import { declaredQuery, formatQuery } from "./query.js";

describe("declared query parameters", () => {
  it.each([
    ["date=2026-01-01&page=3", ["date"], [["date", "date=2026-01-01"]]],
    [
      "b=2&a=1",
      ["a", "b"],
      [
        ["a", "a=1"],
        ["b", "b=2"],
      ],
    ],
    [
      "tag=x&a=1&tag=y",
      ["tag", "a"],
      [
        ["a", "a=1"],
        ["tag", "tag=x"],
        ["tag", "tag=y"],
      ],
    ],
    ["q=a+b%20c", ["q"], [["q", "q=a+b%20c"]]],
    ["q=%7e%2f%41", ["q"], [["q", "q=~%2FA"]]],
    ["%71=1", ["q"], [["q", "q=1"]]],
    ["q=%zz", ["q"], [["q", "q=%zz"]]],
    ["flag&x=1", ["flag"], [["flag", "flag"]]],
    ["&&date=1&&", ["date"], [["date", "date=1"]]],
    ["", ["date"], []],
    ["date=1", [], []],
  ])("in %j, keeping %j, are %j", (query, declared, expected) => {
    expect(declaredQuery(query, declared)).toEqual(expected);
  });

  it.each([
    ["q", "q="],
    ["q=%zz", "q=%25zz"],
    ["q=a+b", "q=a%20b"],
  ])("keeps %j and %j apart: an upstream may read them differently", (a, b) => {
    expect(formatQuery(declaredQuery(a, ["q"]))).not.toBe(formatQuery(declaredQuery(b, ["q"])));
  });

  it("ignores parameter order", () => {
    expect(formatQuery(declaredQuery("b=2&a=1", ["a", "b"]))).toBe(
      formatQuery(declaredQuery("a=1&b=2", ["a", "b"])),
    );
  });

  it("scans 10,000 undeclared parameters quickly", () => {
    const query = Array.from({ length: 10_000 }, (_, i) => `p${i}=${i}`).join("&");
    const started = performance.now();
    expect(declaredQuery(`${query}&date=1`, ["date"])).toEqual([["date", "date=1"]]);
    expect(performance.now() - started).toBeLessThan(100);
  });
});

const identity: CompiledIdentity = { headers: ["authorization", "x-user-id"], cookies: ["session"] };
const anyCookie: CompiledIdentity = { headers: ["authorization"] };

describe("identifying requests", () => {
  it.each([
    [{ authorization: "Bearer t" }, identity, true],
    [{ "x-user-id": "7" }, identity, true],
    [{ cookie: "session=abc; theme=dark" }, identity, true],
    [{ cookie: "theme=dark" }, identity, false],
    [{ cookie: "theme=dark" }, anyCookie, true],
    [{ cookie: "" }, anyCookie, false],
    [{ accept: "*/*" }, anyCookie, false],
  ])("%j under %j is identifying: %s", (headers, which, expected) => {
    expect(isIdentifying(headers, which)).toBe(expected);
  });

  it("hashes the identity without revealing it, and tells users apart", () => {
    const alice = identityHash({ authorization: "Bearer alice-secret" }, identity);
    const bob = identityHash({ authorization: "Bearer bob-secret" }, identity);
    expect(alice).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(alice).not.toContain("alice");
    expect(alice).not.toBe(bob);
  });

  it("hashes only identifying cookies when they are listed", () => {
    const a = identityHash({ cookie: "session=1; theme=dark" }, identity);
    const b = identityHash({ cookie: "theme=light; session=1" }, identity);
    expect(a).toBe(b);
    expect(identityHash({ cookie: "theme=dark" }, identity)).toBeUndefined();
  });

  it("reads cookie values", () => {
    expect(cookieValue("a=1; session = xyz ;b=2", "session")).toBe("xyz");
    expect(cookieValue("a=1", "session")).toBeUndefined();
  });
});

describe("the cache key", () => {
  const base: KeyParts = {
    method: "GET",
    host: "API.example.test",
    path: "/api/v2/barbers/42/slots",
    query: [["date", "date=2026-01-01"]],
    keyHeaders: ["accept-language"],
    headers: { "accept-language": "de" },
    scope: "Public",
  };

  it("holds method class, host, path, declared query and headers, and scope", () => {
    expect(cacheKey(base)).toBe(
      "GET|api.example.test|/api/v2/barbers/42/slots?date=2026-01-01|accept-language=de|public",
    );
  });

  it("shares entries between GET and HEAD", () => {
    expect(cacheKey({ ...base, method: "HEAD" })).toBe(cacheKey(base));
  });

  it.each([
    ["host", { host: "other.test" }],
    ["path", { path: "/api/v2/barbers/43/slots" }],
    ["query", { query: [["date", "date=2026-01-02"]] as const }],
    ["declared header", { headers: { "accept-language": "fr" } }],
    ["scope", { scope: "PerUser" as const, identityHash: "abc" }],
  ])("differs when the %s differs", (_part, change) => {
    expect(cacheKey({ ...base, ...change })).not.toBe(cacheKey(base));
  });

  it("ignores undeclared headers", () => {
    expect(cacheKey({ ...base, headers: { ...base.headers, "x-forwarded-host": "evil" } })).toBe(
      cacheKey(base),
    );
  });

  it("keys PerUser entries on the identity hash, or anon", () => {
    expect(cacheKey({ ...base, scope: "PerUser", identityHash: "h1" })).toMatch(/\|user:h1$/);
    expect(cacheKey({ ...base, scope: "PerUser" })).toMatch(/\|user:anon$/);
  });

  it("bounds key length by hashing long keys", () => {
    const key = cacheKey({ ...base, query: [["date", `date=${"x".repeat(5_000)}`]] });
    expect(key.length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
    expect(key).toMatch(/^sha256:/);
  });

  it("cannot be made to collide by a Host carrying the part separator", () => {
    const forged = cacheKey({ ...base, host: "api.example.test|/api/v2", path: "/barbers/42/slots" });
    const victim = cacheKey({ ...base, path: "/api/v2|/barbers/42/slots" });
    expect(forged).not.toBe(victim);
    expect(cacheKey({ ...base, host: "a%7Cb" })).not.toBe(cacheKey({ ...base, host: "a|b" }));
  });

  it.each([
    ["authorization", "Bearer alice-secret"],
    ["x-user-id", "alice-secret"],
    ["cookie", "session=alice-secret"],
  ])("holds only a hash of the declared key header %s, which carries a credential", (name, value) => {
    const parts: KeyParts = {
      ...base,
      keyHeaders: [name],
      headers: { [name]: value },
      scope: "PerUser",
      identityHash: "h1",
      identityHeaders: ["authorization", "x-user-id"],
    };
    const key = cacheKey(parts);
    expect(key).not.toContain("alice");
    expect(key).not.toBe(cacheKey({ ...parts, headers: { [name]: value.replace("alice", "bob") } }));
  });

  it("tags entries by path with a prefix no policy tag can use", () => {
    expect(pathTag("/a/b")).toBe("~path:/a/b");
  });
});

describe("a cache fill request", () => {
  const headers = {
    host: "api.test",
    accept: "application/json",
    "accept-language": "de",
    "accept-encoding": "gzip",
    "x-forwarded-host": "evil.test",
    "x-tenant": "t1",
    authorization: "Bearer alice",
    cookie: "session=s1; theme=dark",
    "user-agent": "curl",
  };

  it("carries only the key's fields and content negotiation on a Public route", () => {
    expect(fillHeaders({ headers, keyHeaders: ["x-tenant"], scope: "Public", identity })).toEqual({
      host: "api.test",
      accept: "application/json",
      "accept-language": "de",
      "x-tenant": "t1",
    });
  });

  it("never carries conditional or range fields, even declared as key headers", () => {
    const conditional = {
      host: "api.test",
      "if-none-match": '"v1"',
      "if-modified-since": "Thu, 01 Jan 2026 00:00:00 GMT",
      range: "bytes=0-10",
    };
    const declared = ["if-modified-since", "if-none-match", "range"];
    expect(fillHeaders({ headers: conditional, keyHeaders: declared, scope: "Public", identity })).toEqual({
      host: "api.test",
    });
  });

  it("adds the identity on a PerUser route, identifying cookies only", () => {
    expect(fillHeaders({ headers, keyHeaders: [], scope: "PerUser", identity })).toEqual({
      host: "api.test",
      accept: "application/json",
      "accept-language": "de",
      authorization: "Bearer alice",
      cookie: "session=s1",
    });
  });
});
