import type { IncomingMessage } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { eventually, manualClock, send, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

/**
 * Revalidation (RFC 9111 §4.3): a stale entry with a validator is refreshed with a conditional request;
 * a 304 freshens it without sending the body again, a 200 replaces it. Time moves by hand.
 */
describe("revalidating stale entries with the upstream", () => {
  let upstream: TestUpstream;
  let sidecar: Sidecar;
  const clock = manualClock();
  /** The representation version per path; the ETag is derived from it. */
  const versions = new Map<string, number>();
  const bodyBytes = new Map<string, number>();

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      const path = (req.url ?? "").split("?")[0] as string;
      const version = versions.get(path) ?? 1;
      const answer = path.startsWith("/strict/imsonly")
        ? onlyModifiedSince(req, version)
        : path.startsWith("/dated/")
          ? lastModifiedOnly(req, version)
          : withEtag(req, version, upstream.count(path));
      if (answer.status === 200) bodyBytes.set(path, (bodyBytes.get(path) ?? 0) + answer.body.length);
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    });
    sidecar = await startTestSidecar({
      upstream: upstream.url,
      clock: clock.now,
      spec: {
        // A stale entry is revalidated while the store still holds it: within staleWhileRevalidate (in
        // the background) or staleIfError (in the request's path).
        defaults: { ttl: "60s", staleWhileRevalidate: "30s", staleIfError: "10m" },
        routes: [
          { name: "strict", path: "/strict/*", staleWhileRevalidate: "0s" },
          { name: "dated", path: "/dated/*", staleWhileRevalidate: "0s" },
          { name: "items", path: "/**" },
        ],
      },
    });
  });

  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  const conditional = (path: string) =>
    upstream.received.filter((r) => r.url === path && r.headers["if-none-match"]);

  it("sends If-None-Match once the entry is stale, and keeps the stored body on a 304", async () => {
    const first = await send(sidecar.url, "/strict/a");
    clock.advance(61_000);
    const second = await send(sidecar.url, "/strict/a");
    expect(second.status).toBe(200);
    expect(second.body).toBe(first.body);
    expect(second.cacheStatus).toBe("apicache; fwd=stale; fwd-status=304; stored");
    expect(first.headers["x-served"]).toBe("1");
    expect(second.headers["x-served"]).toBe("2"); // the 304's fields replace the stored ones
    expect(conditional("/strict/a").map((r) => r.headers["if-none-match"])).toEqual(['"v1"']);
    expect(bodyBytes.get("/strict/a")).toBe(first.body.length); // the body crossed the wire once

    const third = await send(sidecar.url, "/strict/a");
    expect(third.cacheStatus).toMatch(/^apicache; hit/); // fresh again for the 304's max-age
  });

  it("replaces the entry when the upstream's representation changed", async () => {
    await send(sidecar.url, "/strict/b");
    versions.set("/strict/b", 2);
    clock.advance(61_000);
    const changed = await send(sidecar.url, "/strict/b");
    expect(JSON.parse(changed.body).version).toBe(2);
    expect(changed.cacheStatus).toBe("apicache; fwd=stale; fwd-status=200; stored");
    expect(changed.headers.etag).toBe('"v2"');
  });

  it("does not relabel the stored body with a 304 that names another representation", async () => {
    await send(sidecar.url, "/strict/imsonly");
    versions.set("/strict/imsonly", 2);
    clock.advance(61_000);
    const after = await send(sidecar.url, "/strict/imsonly");
    expect(after.headers.etag).toBe('"v2"');
    expect(JSON.parse(after.body).version).toBe(2); // refetched whole after the unusable 304
    expect(after.cacheStatus).toContain("fwd-status=200; stored");
  });

  it("revalidates in the background within staleWhileRevalidate", async () => {
    await send(sidecar.url, "/items/c");
    clock.advance(61_000);
    const stale = await send(sidecar.url, "/items/c");
    expect(stale.cacheStatus).toContain("detail=stale-while-revalidate");
    await eventually(async () => conditional("/items/c").length === 1, 5_000, "the background revalidation");
    await eventually(
      async () => (await send(sidecar.url, "/items/c")).cacheStatus.startsWith("apicache; hit"),
      5_000,
      "the freshened entry",
    );
  });

  it("uses If-Modified-Since when the entry has only a Last-Modified", async () => {
    const first = await send(sidecar.url, "/dated/d");
    clock.advance(61_000);
    const second = await send(sidecar.url, "/dated/d");
    expect(second.body).toBe(first.body);
    expect(second.cacheStatus).toBe("apicache; fwd=stale; fwd-status=304; stored");
    const sent = upstream.received
      .filter((r) => r.url === "/dated/d")
      .map((r) => r.headers["if-modified-since"]);
    expect(sent).toEqual([undefined, new Date(Date.UTC(2026, 0, 1)).toUTCString()]);
  });

  it("answers a client's If-Modified-Since from the entry's Last-Modified, without asking the upstream", async () => {
    await send(sidecar.url, "/dated/f");
    const modified = new Date(Date.UTC(2026, 0, 1)).toUTCString();
    const notModified = await send(sidecar.url, "/dated/f", { headers: { "if-modified-since": modified } });
    expect(notModified.status).toBe(304);
    expect(notModified.body).toBe("");
    const earlier = new Date(Date.UTC(2025, 11, 31)).toUTCString();
    const full = await send(sidecar.url, "/dated/f", { headers: { "if-modified-since": earlier } });
    expect(full.status).toBe(200);
    expect(upstream.count("/dated/f")).toBe(1);
  });

  it("never forwards the client's own preconditions on a fill, and answers them from the entry", async () => {
    const miss = await send(sidecar.url, "/strict/e", { headers: { "if-none-match": '"v1"' } });
    expect(miss.status).toBe(304);
    expect(upstream.received.find((r) => r.url === "/strict/e")?.headers["if-none-match"]).toBeUndefined();
  });
});

interface Answer {
  readonly status: 200 | 304;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** ETag "v<version>" and If-None-Match, with a 2 KB body (so a resent body would show). */
function withEtag(req: IncomingMessage, version: number, served: number): Answer {
  const etag = `"v${version}"`;
  const headers = { etag, "cache-control": "max-age=60", "x-served": String(served) };
  if (req.headers["if-none-match"] === etag) return { status: 304, headers, body: "" };
  const body = JSON.stringify({ path: req.url, version, padding: "x".repeat(2_000) });
  return { status: 200, headers: { ...headers, "content-type": "application/json" }, body };
}

/** Last-Modified only (day <version> of 2026), validated by If-Modified-Since. */
function lastModifiedOnly(req: IncomingMessage, version: number): Answer {
  const headers = {
    "last-modified": new Date(Date.UTC(2026, 0, version)).toUTCString(),
    "cache-control": "max-age=60",
  };
  const since = req.headers["if-modified-since"];
  if (since !== undefined && Date.parse(since) >= Date.parse(headers["last-modified"]))
    return { status: 304, headers, body: "" };
  return { status: 200, headers, body: JSON.stringify({ path: req.url, version }) };
}

/** Validates on If-Modified-Since only (second-granular, unchanged), and its 304 names the current ETag. */
function onlyModifiedSince(req: IncomingMessage, version: number): Answer {
  const lastModified = new Date(Date.UTC(2026, 0, 1)).toUTCString();
  const headers = { etag: `"v${version}"`, "last-modified": lastModified, "cache-control": "max-age=60" };
  if (req.headers["if-modified-since"] === lastModified) return { status: 304, headers, body: "" };
  return {
    status: 200,
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ path: req.url, version }),
  };
}
