import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { send, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

// The admin API's HTTP surface, exactly (docs/adr/0030: it runs on express, and answers as it did on
// node:http): paths matched as written, the token checked before any route, one answer shape per
// refusal, nothing express adds on its own (X-Powered-By, ETag, charset).
describe("the admin API's HTTP surface", () => {
  const TOKEN = "admin-http-token";
  const bearer = { authorization: `Bearer ${TOKEN}` };
  let upstream: TestUpstream;
  let sidecar: Sidecar;
  let admin: string;

  beforeAll(async () => {
    upstream = await startUpstream();
    sidecar = await startTestSidecar({
      upstream: upstream.url,
      adminToken: TOKEN,
      spec: { routes: [{ name: "items", path: "/api/items/**" }] },
    });
    admin = sidecar.adminUrl as string;
  });

  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    send(admin, path, { method: "POST", headers: { ...bearer, ...headers }, body });

  async function rejected(endpoint: string, reason: string): Promise<number> {
    const text = (await send(admin, "/metrics")).body;
    const line = text
      .split("\n")
      .find((row) =>
        row.startsWith(`apicache_admin_rejected_requests_total{endpoint="${endpoint}",reason="${reason}"}`),
      );
    return line ? Number(line.split(" ").at(-1)) : 0;
  }

  it("answers JSON with its exact Content-Type and a trailing newline, without X-Powered-By or ETag", async () => {
    for (const answer of [await send(admin, "/healthz"), await send(admin, "/stats", { headers: bearer })]) {
      expect(answer.status).toBe(200);
      expect(answer.headers["content-type"]).toBe("application/json");
      expect(answer.headers["x-powered-by"]).toBeUndefined();
      expect(answer.headers.etag).toBeUndefined();
      expect(answer.body.endsWith("}\n")).toBe(true);
    }
    expect((await send(admin, "/healthz?probe=1")).body).toBe('{"status":"ok"}\n');
  });

  it("refuses an unknown path without the token (counted as endpoint other), and lists the endpoints with it", async () => {
    const before = await rejected("other", "missing");
    expect((await send(admin, "/nope")).status).toBe(401);
    expect(await rejected("other", "missing")).toBe(before + 1);
    const answer = await send(admin, "/nope?x=1", { headers: bearer });
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toEqual({
      error: "no admin endpoint GET /nope",
      endpoints: [
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
        "GET /stats",
        "POST /invalidate",
        "POST /warm",
      ],
    });
  });

  it("matches paths as written: case and a trailing slash count", async () => {
    expect((await send(admin, "/healthz/")).status).toBe(401);
    expect((await send(admin, "/healthz/", { headers: bearer })).status).toBe(404);
    expect((await send(admin, "/Stats", { headers: bearer })).status).toBe(404);
    expect((await send(admin, "/invalidate/", { headers: bearer, method: "POST" })).status).toBe(404);
  });

  it("answers 404 to an open path with another method, without asking for the token", async () => {
    const answer = await send(admin, "/healthz", { method: "POST" });
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toMatchObject({ error: "no admin endpoint POST /healthz" });
    expect((await send(admin, "/invalidate", { headers: bearer })).status).toBe(404);
  });

  it.each([
    ["not JSON", "{tags:"],
    ["a JSON array", '["x"]'],
    ["a JSON string", '"x"'],
    ["a list of numbers", '{"tags": [1]}'],
    ["larger than 1 MiB", JSON.stringify({ tags: ["x".repeat(1024 * 1024)] })],
  ])("answers 400 APICACHE_ERR_ADMIN_BAD_REQUEST to an /invalidate body that is %s", async (_what, body) => {
    const answer = await post("/invalidate", body, { "content-type": "application/json" });
    expect(answer.status).toBe(400);
    expect(answer.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(answer.body)).toEqual({
      error: "APICACHE_ERR_ADMIN_BAD_REQUEST",
      message: 'send JSON {"tags": [...], "keys": [...], "paths": [...]} (each optional, strings only)',
    });
  });

  it("reads a JSON body whatever its Content-Type, and an empty one as no lists", async () => {
    const plain = await post("/invalidate", '{"tags": ["x"]}', { "content-type": "text/plain" });
    expect(plain.status).toBe(200);
    expect(JSON.parse(plain.body)).toEqual({ removed: 0 });
    expect((await post("/invalidate", "")).status).toBe(200);
    expect((await post("/invalidate", '{"tags": ["x"]}')).status).toBe(200);
  });

  it("answers a bad /warm body with the /warm usage", async () => {
    const answer = await post("/warm", '{"host": "not a host"}');
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({
      error: "APICACHE_ERR_ADMIN_BAD_REQUEST",
      message: expect.stringContaining('"host": "api.example.com"'),
    });
    const empty = await post("/warm", "");
    expect(empty.status).toBe(200);
    expect(JSON.parse(empty.body)).toEqual({ results: [] });
  });

  // The node:http server answered these differently (ADR 0030): HEAD /healthz was a 404, and a body
  // of blanks, in another charset, or with a Content-Encoding was read as UTF-8 JSON as it stood.
  describe("where express answers differently than the node:http server did", () => {
    it("answers HEAD on a GET endpoint as GET, without a body", async () => {
      const answer = await send(admin, "/healthz", { method: "HEAD" });
      expect(answer.status).toBe(200);
      expect(answer.headers["content-type"]).toBe("application/json");
      expect(answer.body).toBe("");
    });

    it.each([
      ["only blanks", "   ", {}],
      [
        "declared in another charset",
        '{"tags": ["x"]}',
        { "content-type": "application/json; charset=latin1" },
      ],
      ["content-encoded", '{"tags": ["x"]}', { "content-encoding": "gzip" }],
    ])("refuses an /invalidate body that is %s with a 400", async (_what, body, headers) => {
      const answer = await post("/invalidate", body, headers);
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toMatchObject({ error: "APICACHE_ERR_ADMIN_BAD_REQUEST" });
    });
  });
});
