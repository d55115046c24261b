import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { snapshotPath } from "../src/demo-api/open-database.js";
import { type DemoApi, startDemoApi } from "../src/demo-api/server.js";
import { SIZES, shopOwnerUserId } from "../src/demo-api/sizes.js";

// The demo API in process on the tiny dataset (generated into a temp cache dir), over real HTTP.
let api: DemoApi;
let cacheDir: string;

beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), "apicache-demo-api-"));
  api = await startDemoApi({ size: SIZES.tiny, cacheDir, logger: pino({ level: "silent" }) });
});

afterAll(async () => {
  await api?.close();
  await rm(cacheDir, { recursive: true, force: true });
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("the demo API", () => {
  it("generated the dataset and saved a snapshot for the next start", async () => {
    expect(api.source).toBe("generated");
    const { statSync } = await import("node:fs");
    expect(statSync(snapshotPath(cacheDir, SIZES.tiny)).size).toBeGreaterThan(0);
  });

  it.each([
    ["/api/v2/services", "services"],
    ["/api/v2/barbers/2/slots?date=2025-07-29", "slots"],
    ["/api/v2/analytics/revenue?range=30d", "daily"],
    ["/api/v2/analytics/clients?range=7d", "cohorts"],
    ["/api/v2/users/3/profile", "stats"],
  ])("answers GET %s", async (path, field) => {
    const { status, body } = await call("GET", path);
    expect(status).toBe(200);
    expect(body).toHaveProperty(field);
  });

  it("counts the SQL statements it sends per answered request at /demo/db-stats", async () => {
    const before = (await call("GET", "/demo/db-stats")).body;
    await call("GET", "/api/v2/services");
    await call("GET", "/api/v2/users/3/profile");
    const after = (await call("GET", "/demo/db-stats")).body;
    expect(Number(after.requests) - Number(before.requests)).toBe(2);
    // Reading the counters is not a request and sends no statement.
    expect(Number(after.statements) - Number(before.statements)).toBeGreaterThanOrEqual(2);
    expect(Number(after.queryMillis)).toBeGreaterThan(Number(before.queryMillis));
    const again = (await call("GET", "/demo/db-stats")).body;
    expect(again).toEqual(after);
  });

  it("serves the dashboard to a shop owner and refuses anonymous callers", async () => {
    const owner = { authorization: `Bearer user-${shopOwnerUserId(SIZES.tiny, 2)}` };
    expect((await call("GET", "/api/v2/dashboard", undefined, owner)).body.shopId).toBe(2);
    expect((await call("GET", "/api/v2/dashboard")).status).toBe(401);
    expect(
      (await call("GET", "/api/v2/dashboard", undefined, { authorization: "Bearer user-3" })).status,
    ).toBe(403);
  });

  it("books a slot, which then is no longer free, and frees it again on cancellation", async () => {
    const slotsPath = "/api/v2/barbers/4/slots?date=2025-07-30";
    const free = () =>
      call("GET", slotsPath).then((r) => (r.body.slots as unknown as { time: string }[]).map((s) => s.time));
    const booked = await call("POST", "/api/v2/appointments", {
      barberId: 4,
      clientId: 9,
      serviceId: 1,
      date: "2025-07-30",
    });
    expect(booked.status).toBe(201);
    const time = String(booked.body.startsAt).slice(11, 16);
    expect(await free()).not.toContain(time);
    expect((await call("DELETE", `/api/v2/appointments/${booked.body.id}`)).status).toBe(200);
    expect(await free()).toContain(time);
    expect((await call("DELETE", `/api/v2/appointments/${booked.body.id}`)).status).toBe(404);
  });

  it("bumps a profile's version on update and shows the new data", async () => {
    const before = (await call("GET", "/api/v2/users/5/profile")).body;
    const updated = await call("PUT", "/api/v2/users/5/profile", { bio: "new bio" });
    expect(updated.body.version).toBe(Number(before.version) + 1);
    expect((await call("GET", "/api/v2/users/5/profile")).body).toMatchObject({
      bio: "new bio",
      version: updated.body.version,
    });
  });

  it("counts a recorded payment in the revenue report", async () => {
    const revenue = async () =>
      (await call("GET", "/api/v2/analytics/revenue?range=7d")).body.byMethod as unknown as {
        method: string;
        revenueCents: string;
      }[];
    const wallet = async () =>
      Number((await revenue()).find((m) => m.method === "wallet")?.revenueCents ?? 0);
    const before = await wallet();
    expect(
      (
        await call("POST", "/api/v2/payments", {
          appointmentId: 10,
          amountCents: 12345,
          tipCents: 0,
          method: "wallet",
        })
      ).status,
    ).toBe(201);
    expect(await wallet()).toBe(before + 12345);
  });

  it("changes a service in the catalog", async () => {
    const updated = await call("PUT", "/api/v2/services/3", { description: "changed" });
    const catalog = (await call("GET", "/api/v2/services")).body.services as unknown as {
      id: number;
      description: string;
      version: number;
    }[];
    expect(catalog.find((s) => s.id === 3)).toMatchObject({
      description: "changed",
      version: updated.body.version,
    });
  });

  it.each([
    [
      "PUT",
      "/api/v2/barbers/3/availability",
      { days: [{ weekday: 9, starts: "09:00", ends: "17:00" }] },
      400,
    ],
    ["POST", "/api/v2/payments", { appointmentId: 999999, tipCents: 0 }, 404],
    ["PUT", "/api/v2/users/999999/profile", { bio: "x" }, 404],
    ["GET", "/api/v2/nowhere", undefined, 404],
  ])("rejects %s %s with HTTP %i", async (method, path, body, status) => {
    expect((await call(method, path, body)).status).toBe(status);
  });
});
