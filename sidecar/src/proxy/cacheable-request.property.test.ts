import { parseCachePolicyOrThrow } from "@apicache/crds";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { varyValues } from "../http-cache/vary.js";
import { variantKey } from "../keys/cache-key.js";
import { withVaried } from "../keys/fill-request.js";
import { compilePolicy, matchRoute } from "../routing/compile-policy.js";
import { normalizePath, splitTarget } from "../routing/normalize-path.js";
import { pathSegments } from "../routing/path-matcher.js";
import { cacheableRequest } from "./handler.js";
import type { Upstream } from "./upstream.js";

/**
 * The key builder's property: two requests that share a key (and, for a response with Vary, a
 * variant key) make the same fill — the upstream cannot tell them apart, so it cannot answer them
 * differently. "The same" allows what cannot shape an answer by declaration or by standard: the
 * forward-only headers, X-Forwarded-For (an app answering by address must send Vary), host letter case.
 */
const policy = compilePolicy(
  parseCachePolicyOrThrow({
    apiVersion: "apicache.io/v1alpha1",
    kind: "CachePolicy",
    metadata: { name: "p", namespace: "ns" },
    spec: {
      selector: { matchLabels: { app: "p" } },
      upstream: { port: 8080 },
      identity: { headers: ["X-User"], cookies: ["session"] },
      routes: [
        { name: "mine", path: "/me/**", key: { scope: "PerUser", query: ["q"] } },
        { name: "any", path: "/**", key: { query: ["q", "r"], headers: ["X-Tenant"] } },
      ],
    },
  }),
  "text",
);

const ctx = { upstream: { host: "upstream:8080" } as Upstream };

const maybe = <T>(values: readonly T[]) => fc.option(fc.constantFrom(...values), { nil: undefined });

const request = fc.record({
  method: fc.constantFrom("GET", "HEAD"),
  target: fc
    .tuple(
      fc.constantFrom("/a", "/A", "/a/", "/me/x", "/me/X", "/b%41", "/bA", "/c%zz", "/c%25zz"),
      fc.constantFrom(
        "",
        "?q",
        "?q=",
        "?q=1",
        "?r=1&q=1",
        "?q=1&r=1",
        "?q=%7e",
        "?q=~",
        "?q=a+b",
        "?q=a%20b",
        "?x=1",
      ),
    )
    .map(([path, query]) => `${path}${query}`),
  peer: maybe(["127.0.0.1", "10.0.0.7", "203.0.113.1", "::ffff:10.0.0.7"]),
  headers: fc.record(
    {
      host: fc.constantFrom("shop.test", "SHOP.test", "other.test"),
      accept: fc.constantFrom("application/json", "text/html", "*/*"),
      "accept-language": fc.constantFrom("en", "fr", "en, fr"),
      "x-forwarded-proto": fc.constantFrom("https", "http", "HTTPS", "gopher"),
      "x-forwarded-host": fc.constantFrom("public.test", "PUBLIC.test", "evil.test"),
      "x-forwarded-for": fc.constantFrom("198.51.100.1", "198.51.100.2"),
      "x-tenant": fc.constantFrom("t1", "t2", ""),
      "x-other": fc.constantFrom("1", "2"),
      traceparent: fc.constantFrom("00-a-01-01", "00-b-02-01"),
      "x-user": fc.constantFrom("alice", "bob"),
      cookie: fc.constantFrom("session=1", "session=2", "theme=dark"),
      "accept-encoding": fc.constantFrom("gzip", "br"),
      "if-none-match": fc.constantFrom('"v1"', '"v2"'),
    },
    { requiredKeys: ["host"] },
  ),
});

type Generated = typeof request extends fc.Arbitrary<infer T> ? T : never;

/** The request as the handler classifies it, or undefined when it would bypass the cache. */
function classify(r: Generated) {
  const { path: raw, query } = splitTarget(r.target);
  const path = normalizePath(raw);
  const match = matchRoute(policy, r.method, pathSegments(path));
  if (match === undefined) return undefined;
  // Identifying requests bypass Public routes (handler.ts): never keyed there.
  if (
    match.route.rules.scope === "Public" &&
    (r.headers["x-user"] || r.headers.cookie?.startsWith("session"))
  )
    return undefined;
  return cacheableRequest(
    { ...ctx },
    { method: r.method, headers: r.headers },
    {
      policy,
      match,
      path,
      query,
      started: 0,
      peer: { encrypted: false, ...(r.peer ? { address: r.peer } : {}) },
    },
  );
}

/** What the upstream sees of a fill, less what by declaration or standard cannot change its answer. */
function seen(fill: Readonly<Record<string, string>>, path: string) {
  const { traceparent: _t, tracestate: _s, "x-request-id": _i, "x-forwarded-for": _f, ...rest } = fill;
  const out: Record<string, string> = { path, ...rest };
  for (const name of ["host", "x-forwarded-host"]) if (out[name]) out[name] = out[name].toLowerCase();
  return out;
}

const FIELD_NAMES = [
  "method",
  "target",
  "peer",
  "host",
  "accept",
  "accept-language",
  "x-forwarded-proto",
  "x-forwarded-host",
  "x-forwarded-for",
  "x-tenant",
  "x-other",
  "traceparent",
  "x-user",
  "cookie",
  "accept-encoding",
  "if-none-match",
] as const;
const FIELDS: (typeof FIELD_NAMES)[number][] = [...FIELD_NAMES];

function respelled(a: Generated, other: Generated, changed: readonly (typeof FIELDS)[number][]): Generated {
  let b: Generated = { ...a, headers: { ...a.headers } };
  for (const field of changed) {
    if (field === "method" || field === "target" || field === "peer") b = { ...b, [field]: other[field] };
    else {
      const headers: Record<string, string | undefined> = { ...b.headers, [field]: other.headers[field] };
      if (headers[field] === undefined) delete headers[field];
      b = { ...b, headers: headers as Generated["headers"] };
    }
  }
  return b;
}

const VARIED = ["x-tenant", "x-other", "accept-encoding", "x-forwarded-for", "cookie", "if-none-match"];

describe("the key builder (properties)", () => {
  it("never gives one key to two requests the upstream could answer differently", () => {
    let shared = 0;
    fc.assert(
      fc.property(
        request,
        request,
        fc.subarray(FIELDS, { maxLength: 2 }),
        fc.subarray(VARIED),
        (a, other, changed, vary) => {
          // `b` is `a` with one or two fields drawn again, so that keys often coincide.
          const b = respelled(a, other, changed);
          const ca = classify(a);
          const cb = classify(b);
          if (ca === undefined || cb === undefined || ca.key !== cb.key) return;
          shared++;
          expect(seen(cb.fillHeaders(), cb.fillPath)).toEqual(seen(ca.fillHeaders(), ca.fillPath));
          // With a response that varies on `vary`: one variant key, one variant fill.
          const va = variantKey(ca.key, varyValues(vary, ca.varyHeaders()), ca.identityHeaders);
          const vb = variantKey(cb.key, varyValues(vary, cb.varyHeaders()), cb.identityHeaders);
          if (va !== vb) return;
          const fillA = withVaried(ca.fillHeaders(), vary, ca.varyHeaders());
          const fillB = withVaried(cb.fillHeaders(), vary, cb.varyHeaders());
          for (const name of vary) expect([name, fillB[name]]).toEqual([name, fillA[name]]);
        },
      ),
      { numRuns: 4_000 },
    );
    // The property was exercised, not vacuously true.
    expect(shared).toBeGreaterThan(500);
  });

  it("never throws, whatever the request", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 60 }),
        fc.dictionary(
          fc.constantFrom("host", "accept", "x-forwarded-proto", "x-forwarded-host", "cookie"),
          fc.string(),
        ),
        (target, headers) => {
          classify({ method: "GET", target, peer: "127.0.0.1", headers: { host: "shop.test", ...headers } });
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
