import { describe, expect, it } from "vitest";
import type { CompiledIdentity } from "../routing/compile-policy.js";
import { cacheKey, type KeyParts, MAX_KEY_LENGTH, pathTag, shadowKey, variantKey } from "./cache-key.js";
import { fillHeaders, unsentVaried, varyView, withVaried } from "./fill-request.js";
import { forwarded, trustedProxies } from "./forwarding.js";
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
    scheme: "https",
    host: "API.example.test",
    path: "/api/v2/barbers/42/slots",
    query: [["date", "date=2026-01-01"]],
    keyHeaders: ["accept-language"],
    headers: { "accept-language": "de" },
    scope: "Public",
  };

  it("holds method class, scheme, hosts, path, declared query and headers, and scope", () => {
    expect(cacheKey(base)).toBe(
      "GET|https|api.example.test||/api/v2/barbers/42/slots?date=2026-01-01|accept-language=de|public",
    );
  });

  it("shares entries between GET and HEAD", () => {
    expect(cacheKey({ ...base, method: "HEAD" })).toBe(cacheKey(base));
  });

  it.each([
    ["host", { host: "other.test" }],
    ["scheme", { scheme: "http" }],
    ["forwarded host", { forwardedHost: "public.example" }],
    ["path", { path: "/api/v2/barbers/43/slots" }],
    ["query", { query: [["date", "date=2026-01-02"]] as const }],
    ["declared header", { headers: { "accept-language": "fr" } }],
    ["scope", { scope: "PerUser" as const, identityHash: "abc" }],
  ])("differs when the %s differs", (_part, change) => {
    expect(cacheKey({ ...base, ...change })).not.toBe(cacheKey(base));
  });

  it("tells an absent key header from an empty one: a fill sends the empty one", () => {
    expect(cacheKey({ ...base, headers: { "accept-language": "" } })).not.toBe(
      cacheKey({ ...base, headers: {} }),
    );
  });

  it("keeps mode Shadow's entries in a key space of their own", () => {
    expect(shadowKey(cacheKey(base))).toBe(`shadow|${cacheKey(base)}`);
    expect(cacheKey(base).startsWith("shadow|")).toBe(false);
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
    traceparent: "00-trace-span-01",
  };
  const to = { proto: "https", host: "api.test", for: "10.0.0.1" } as const;
  const forwarding = {
    "x-forwarded-proto": "https",
    "x-forwarded-host": "api.test",
    "x-forwarded-for": "10.0.0.1",
  };
  const input = { forwarded: to, forwardOnly: ["traceparent", "x-request-id"], identity };
  const negotiation = ["accept", "accept-language"];

  it("carries the key's fields, the forwarding fields and the forward-only ones on a Public route", () => {
    const keyHeaders = [...negotiation, "x-tenant"];
    expect(fillHeaders({ ...input, headers, keyHeaders, scope: "Public" })).toEqual({
      host: "api.test",
      accept: "application/json",
      "accept-language": "de",
      "x-tenant": "t1",
      traceparent: "00-trace-span-01",
      ...forwarding,
    });
  });

  it("never carries conditional or range fields, even declared as key headers", () => {
    const conditional = {
      host: "api.test",
      "if-none-match": '"v1"',
      "if-modified-since": "Thu, 01 Jan 2026 00:00:00 GMT",
      range: "bytes=0-10",
    };
    const keyHeaders = ["if-modified-since", "if-none-match", "range"];
    expect(fillHeaders({ ...input, headers: conditional, keyHeaders, scope: "Public" })).toEqual({
      host: "api.test",
      ...forwarding,
    });
  });

  it("adds the identity on a PerUser route, identifying cookies only", () => {
    expect(fillHeaders({ ...input, headers, keyHeaders: negotiation, scope: "PerUser" })).toEqual({
      host: "api.test",
      accept: "application/json",
      "accept-language": "de",
      authorization: "Bearer alice",
      cookie: "session=s1",
      traceparent: "00-trace-span-01",
      ...forwarding,
    });
  });

  it("adds the fields a stored response varies on, with the values the upstream would see", () => {
    const fill = fillHeaders({ ...input, headers, keyHeaders: negotiation, scope: "Public" });
    const view = varyView(headers, fill);
    expect(view["x-forwarded-host"]).toBe("api.test");
    expect(view["accept-encoding"]).toBeUndefined();
    expect(withVaried(fill, ["x-tenant", "accept-encoding", "x-absent"], view)).toEqual({
      ...fill,
      "x-tenant": "t1",
    });
    expect(unsentVaried("X-Tenant, Accept-Encoding, Accept, X-Absent", fill, view)).toEqual(["x-tenant"]);
  });
});

describe("forwarding", () => {
  const trusted = trustedProxies(["10.0.0.0/8", "::1/128"]);
  const client = {
    host: "internal:8080",
    "x-forwarded-proto": "https",
    "x-forwarded-host": "shop.example, proxy.internal",
    "x-forwarded-for": "203.0.113.7",
  };

  it("believes a trusted proxy's forwarding fields and appends the peer", () => {
    expect(forwarded(client, "internal:8080", { address: "10.1.2.3", encrypted: false }, trusted)).toEqual({
      proto: "https",
      host: "shop.example",
      for: "203.0.113.7, 10.1.2.3",
    });
    expect(forwarded(client, "h", { address: "::ffff:10.1.2.3", encrypted: false }, trusted).proto).toBe(
      "https",
    );
  });

  it("ignores them from any other peer: the connection's scheme, Host, the peer", () => {
    expect(forwarded(client, "internal:8080", { address: "203.0.113.9", encrypted: false }, trusted)).toEqual(
      {
        proto: "http",
        host: "internal:8080",
        for: "203.0.113.9",
      },
    );
  });

  it("ignores a scheme that is neither http nor https", () => {
    const odd = { ...client, "x-forwarded-proto": "gopher" };
    expect(forwarded(odd, "h", { address: "::1", encrypted: true }, trusted).proto).toBe("https");
  });
});

describe("variant keys", () => {
  it("extend the key with the varied values, absent ones marked, credentials hashed", () => {
    expect(
      variantKey("K", [
        ["x-tenant", "t1"],
        ["x-absent", null],
      ]),
    ).toBe("K|vary:x-tenant=t1&x-absent~");
    expect(variantKey("K", [["x-tenant", "t1"]])).not.toBe(variantKey("K", [["x-tenant", "t2"]]));
    expect(variantKey("K", [["cookie", "session=alice"]])).not.toContain("alice");
  });
});
