import { Readable } from "node:stream";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { eventually, metricValue, send, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

// Acceptance item 6: writes invalidate by rule tags and target URI; failed writes nothing; admin API.
describe("invalidation", () => {
  let upstream: TestUpstream;
  let sidecar: Sidecar;
  let version = 0;
  let writeStatus = 200;
  let location: string | undefined;
  let holdReads: Promise<void> | undefined;
  /** The upstream applies the write, then drops the connection without answering. */
  let resetAfterWrite = false;

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      if (req.method !== "GET") {
        if (writeStatus < 400) version++;
        if (resetAfterWrite) {
          req.socket.destroy();
          return;
        }
        res.writeHead(writeStatus, location ? { location } : {});
        res.end();
        return;
      }
      const answer = JSON.stringify({ url: req.url, version });
      const reply = () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(answer);
      };
      if (holdReads) void holdReads.then(reply);
      else reply();
    });
    sidecar = await startTestSidecar({
      upstream: upstream.url,
      spec: {
        routes: [
          {
            name: "slots",
            path: "/api/barbers/:barberId/slots",
            key: { query: ["date"] },
            tags: ["slots", "barber:{barberId}"],
          },
          { name: "dashboard", path: "/api/dashboard", tags: ["dashboard"] },
          { name: "items", path: "/api/items/**" },
        ],
        invalidate: [
          { name: "appointment-written", path: "/api/appointments/**", tags: ["slots", "dashboard"] },
          {
            name: "barber-updated",
            path: "/api/barbers/:barberId",
            methods: ["PUT"],
            tags: ["barber:{barberId}"],
          },
          {
            name: "booked",
            path: "/api/bookings",
            methods: ["POST"],
            bodyFields: ["barberId"],
            tags: ["barber:{barberId}"],
            fallbackTags: ["slots"],
          },
        ],
      },
    });
  });

  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  const versionOf = async (path: string) =>
    JSON.parse((await send(sidecar.url, path)).body).version as number;
  const isHit = async (path: string) =>
    (await send(sidecar.url, path)).cacheStatus.startsWith("apicache; hit");

  it("drops every entry carrying a matching rule's tags after a successful write", async () => {
    await send(sidecar.url, "/api/barbers/1/slots?date=a");
    await send(sidecar.url, "/api/barbers/2/slots?date=b");
    await send(sidecar.url, "/api/dashboard");
    const before = version;
    const write = await send(sidecar.url, "/api/appointments/9", { method: "POST", body: "{}" });
    expect(write.status).toBe(200);
    // Read after the write's response: never the old data.
    expect(await versionOf("/api/barbers/1/slots?date=a")).toBe(before + 1);
    expect(await versionOf("/api/barbers/2/slots?date=b")).toBe(before + 1);
    expect(await versionOf("/api/dashboard")).toBe(before + 1);
    expect(
      await metricValue(sidecar, "apicache_invalidations_total", {
        rule: "appointment-written",
        source: "write",
      }),
    ).toBe(1);
  });

  it("fills tag templates from the write's path params", async () => {
    await send(sidecar.url, "/api/barbers/1/slots");
    await send(sidecar.url, "/api/barbers/2/slots");
    await send(sidecar.url, "/api/barbers/1", { method: "PUT", body: "{}" });
    expect(await isHit("/api/barbers/1/slots")).toBe(false);
    expect(await isHit("/api/barbers/2/slots")).toBe(true);
  });

  describe("with body fields", () => {
    const fillBoth = async () => {
      await send(sidecar.url, "/api/barbers/1/slots?date=body");
      await send(sidecar.url, "/api/barbers/2/slots?date=body");
    };
    const json = { "content-type": "application/json" };

    it("drops only the entries of the barber the write's JSON body names", async () => {
      await fillBoth();
      const write = await send(sidecar.url, "/api/bookings", {
        method: "POST",
        headers: json,
        body: JSON.stringify({ barberId: 1, day: "mon" }),
      });
      expect(write.status).toBe(200);
      expect(await isHit("/api/barbers/1/slots?date=body")).toBe(false);
      expect(await isHit("/api/barbers/2/slots?date=body")).toBe(true);
    });

    it.each([
      ["the field is missing", json, JSON.stringify({ day: "mon" })],
      ["the body is not JSON", { "content-type": "text/plain" }, "barberId=1"],
      ["the JSON is broken", json, '{"barberId": 1'],
    ])("drops the fallback tags' entries when %s", async (_name, headers, body) => {
      await fillBoth();
      await send(sidecar.url, "/api/bookings", { method: "POST", headers, body });
      expect(await isHit("/api/barbers/1/slots?date=body")).toBe(false);
      expect(await isHit("/api/barbers/2/slots?date=body")).toBe(false);
    });

    it("drops the fallback tags' entries when the body streams without a length", async () => {
      await fillBoth();
      const response = await request(`${sidecar.url}/api/bookings`, {
        method: "POST",
        headers: json,
        body: Readable.from([Buffer.from('{"barberId":'), Buffer.from("1}")]),
      });
      await response.body.text();
      expect(response.statusCode).toBe(200);
      expect(await isHit("/api/barbers/2/slots?date=body")).toBe(false);
    });
  });

  it("drops the target URI of a write (RFC 9111 §4.4), whatever its query", async () => {
    await send(sidecar.url, "/api/items/7");
    await send(sidecar.url, "/api/items/8");
    await send(sidecar.url, "/api/items/7?x=1", { method: "DELETE" });
    expect(await isHit("/api/items/7")).toBe(false);
    expect(await isHit("/api/items/8")).toBe(true);
  });

  it("drops a same-origin Location, but not another origin's", async () => {
    await send(sidecar.url, "/api/items/new-one");
    await send(sidecar.url, "/api/items/elsewhere");
    location = "/api/items/new-one";
    await send(sidecar.url, "/api/items", { method: "POST" });
    location = "http://other.test/api/items/elsewhere";
    await send(sidecar.url, "/api/items", { method: "POST" });
    location = undefined;
    expect(await isHit("/api/items/new-one")).toBe(false);
    expect(await isHit("/api/items/elsewhere")).toBe(true);
  });

  it.each([400, 404, 500, 503])("drops nothing when the write fails with %i", async (status) => {
    await send(sidecar.url, "/api/dashboard");
    writeStatus = status;
    try {
      await send(sidecar.url, "/api/appointments/1", { method: "POST" });
    } finally {
      writeStatus = 200;
    }
    expect(await isHit("/api/dashboard")).toBe(true);
  });

  it("invalidates when the write's outcome is unknown (the upstream dropped the connection)", async () => {
    await send(sidecar.url, "/api/dashboard");
    expect(await isHit("/api/dashboard")).toBe(true);
    resetAfterWrite = true;
    let answer: Awaited<ReturnType<typeof send>>;
    try {
      answer = await send(sidecar.url, "/api/appointments/2", { method: "POST" });
    } finally {
      resetAfterWrite = false;
    }
    expect(answer.status).toBe(502);
    const after = await send(sidecar.url, "/api/dashboard");
    expect(after.cacheStatus).toContain("fwd=uri-miss");
    expect(JSON.parse(after.body).version).toBe(version);
  });

  it("never stores a fill that was in flight when a write invalidated its tags", async () => {
    await send(sidecar.url, "/api/appointments/x", { method: "POST" });
    let release!: () => void;
    holdReads = new Promise<void>((resolve) => {
      release = resolve;
    });
    const staleRead = send(sidecar.url, "/api/dashboard");
    await eventually(
      () => upstream.received.at(-1)?.url === "/api/dashboard",
      5_000,
      "the fill to reach the upstream",
    );
    const writeDone = send(sidecar.url, "/api/appointments/y", { method: "POST" });
    const afterWrite = version + 1;
    await writeDone;
    holdReads = undefined;
    release();
    const old = await staleRead;
    expect(JSON.parse(old.body).version).toBeLessThan(afterWrite);
    expect(old.cacheStatus).toContain("detail=invalidated-during-fetch");
    expect(await versionOf("/api/dashboard")).toBe(afterWrite);
  });

  describe("through the admin API", () => {
    const admin = (body: unknown) =>
      send(sidecar.adminUrl as string, "/invalidate", {
        method: "POST",
        body: JSON.stringify(body),
        headers: { "content-type": "application/json" },
      });

    it("drops entries by tag", async () => {
      await send(sidecar.url, "/api/barbers/3/slots");
      const answer = await admin({ tags: ["barber:3"] });
      expect(JSON.parse(answer.body)).toEqual({ removed: 1 });
      expect(await isHit("/api/barbers/3/slots")).toBe(false);
    });

    it("drops an entry by key", async () => {
      await send(sidecar.url, "/api/items/k");
      const host = new URL(sidecar.url).host;
      const key = `GET|http|${host}||/api/items/k|accept~&accept-language~|public`;
      const answer = await admin({ keys: [key] });
      expect(JSON.parse(answer.body)).toEqual({ removed: 1 });
      expect(await isHit("/api/items/k")).toBe(false);
    });

    it("drops every variant of a path", async () => {
      await send(sidecar.url, "/api/barbers/4/slots?date=1");
      await send(sidecar.url, "/api/barbers/4/slots?date=2");
      const answer = await admin({ paths: ["/api/barbers/4/slots"] });
      expect(JSON.parse(answer.body)).toEqual({ removed: 2 });
      expect(
        await metricValue(sidecar, "apicache_invalidated_entries_total", { source: "admin" }),
      ).toBeGreaterThanOrEqual(4);
    });

    it("rejects a malformed body with a stable code", async () => {
      const answer = await admin({ tags: "not-a-list" });
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body).error).toBe("APICACHE_ERR_ADMIN_BAD_REQUEST");
    });
  });
});
