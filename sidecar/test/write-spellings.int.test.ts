import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { eventually, send, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

// Issue #12 finding 4 and the body-tag encoding: a write in any spelling a lenient router (Express's
// default) applies to a resource drops that resource's entries. Real Redis, L1 off in front of it.
describe("write spellings", () => {
  let redis: RedisServer;
  let upstream: TestUpstream;
  let lenient: Sidecar;
  let strict: Sidecar;
  let version = 0;

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await startUpstream((req, res) => {
      if (req.method !== "GET") version++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ url: req.url, version }));
    });
    const spec = (invalidationMatching: "Lenient" | "Strict", keyPrefix: string) => ({
      store: {
        redis: { urlSecretRef: { name: "r", key: "url" }, keyPrefix },
        memory: { maxEntryAge: "0s" },
      },
      invalidationMatching,
      routes: [
        { name: "slots", path: "/api/barbers/:barberId/slots", tags: ["barber:{barberId}"] },
        { name: "items", path: "/api/items/**" },
      ],
      invalidate: [
        { name: "barber", path: "/api/barbers/:barberId", methods: ["PUT"], tags: ["barber:{barberId}"] },
        {
          name: "booked",
          path: "/api/bookings",
          methods: ["POST"],
          bodyFields: ["barberId"],
          tags: ["barber:{barberId}"],
          fallbackTags: ["none"],
        },
      ],
    });
    lenient = await startTestSidecar({
      upstream: upstream.url,
      redisUrl: redis.url,
      spec: spec("Lenient", "t/lenient"),
    });
    strict = await startTestSidecar({
      upstream: upstream.url,
      redisUrl: redis.url,
      spec: spec("Strict", "t/strict"),
    });
  });

  afterAll(async () => {
    await lenient?.close();
    await strict?.close();
    await upstream?.close();
    await redis?.stop();
  });

  const isHit = async (sidecar: Sidecar, path: string) =>
    (await send(sidecar.url, path)).cacheStatus.startsWith("apicache; hit");
  /** Fills `path` and waits until it hits (the fill's write to Redis ends after its response). */
  const cached = async (sidecar: Sidecar, path: string) => {
    await send(sidecar.url, path);
    await eventually(() => isHit(sidecar, path), 5_000, `a hit on ${path}`);
  };

  it.each(["/api/items/1/", "/API/items/1", "/api//Items/1/"])(
    "drops /api/items/1 on a PUT to %s (the target URI, whatever its spelling)",
    async (spelling) => {
      await cached(lenient, "/api/items/1");
      const write = await send(lenient.url, spelling, { method: "PUT", body: "{}" });
      expect(write.status).toBe(200);
      const after = await send(lenient.url, "/api/items/1");
      expect(after.cacheStatus).toContain("fwd=uri-miss");
      expect(JSON.parse(after.body).version).toBe(version);
    },
  );

  it("matches invalidate rules leniently by default: PUT /API/Barbers/7/ drops barber 7's slots", async () => {
    await cached(lenient, "/api/barbers/7/slots");
    await cached(lenient, "/api/barbers/8/slots");
    await send(lenient.url, "/API/Barbers/7/", { method: "PUT", body: "{}" });
    expect(await isHit(lenient, "/api/barbers/7/slots")).toBe(false);
    expect(await isHit(lenient, "/api/barbers/8/slots")).toBe(true);
  });

  it("matches invalidate rules exactly under invalidationMatching: Strict", async () => {
    await cached(strict, "/api/barbers/7/slots");
    await send(strict.url, "/API/Barbers/7/", { method: "PUT", body: "{}" });
    expect(await isHit(strict, "/api/barbers/7/slots")).toBe(true);
    await send(strict.url, "/api/barbers/7", { method: "PUT", body: "{}" });
    expect(await isHit(strict, "/api/barbers/7/slots")).toBe(false);
  });

  it('drops /api/barbers/jos%C3%A9/slots on a write whose JSON body says {"barberId":"josé"}', async () => {
    await cached(lenient, "/api/barbers/jos%C3%A9/slots");
    await cached(lenient, "/api/barbers/maria/slots");
    const write = await send(lenient.url, "/api/bookings", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ barberId: "josé" }),
    });
    expect(write.status).toBe(200);
    expect(await isHit(lenient, "/api/barbers/jos%C3%A9/slots")).toBe(false);
    expect(await isHit(lenient, "/api/barbers/maria/slots")).toBe(true);
  });
});
