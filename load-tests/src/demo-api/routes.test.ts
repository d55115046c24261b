import { describe, expect, it } from "vitest";
import { routeRequest } from "./routes.js";

describe("routeRequest", () => {
  it.each([
    ["GET", "/healthz", { kind: "health" }],
    ["GET", "/demo/db-stats", { kind: "db-stats" }],
    ["GET", "/api/v2/services", { kind: "catalog" }],
    ["GET", "/api/v2/services/7", { kind: "service", serviceId: 7 }],
    ["GET", "/api/v2/barbers/12/slots?date=2025-07-29", { kind: "slots", barberId: 12, date: "2025-07-29" }],
    ["HEAD", "/api/v2/barbers/12/slots?date=2025-07-29", { kind: "slots", barberId: 12, date: "2025-07-29" }],
    ["GET", "/api/v2/analytics/revenue?range=90d", { kind: "analytics", report: "revenue", range: "90d" }],
    ["GET", "/api/v2/analytics/clients", { kind: "analytics", report: "clients", range: "30d" }],
    ["GET", "/api/v2/dashboard", { kind: "dashboard" }],
    ["GET", "/api/v2/users/5/profile", { kind: "profile", userId: 5 }],
    ["POST", "/api/v2/appointments", { kind: "create-appointment" }],
    ["DELETE", "/api/v2/appointments/99", { kind: "cancel-appointment", appointmentId: 99 }],
    ["POST", "/api/v2/payments", { kind: "record-payment" }],
    ["PUT", "/api/v2/barbers/3/availability", { kind: "update-availability", barberId: 3 }],
    ["PUT", "/api/v2/users/5/profile", { kind: "update-profile", userId: 5 }],
    ["PUT", "/api/v2/services/4", { kind: "update-service", serviceId: 4 }],
  ])("routes %s %s", (method, url, expected) => {
    expect(routeRequest(method, url)).toEqual({ ok: true, request: expected });
  });

  it.each([
    ["GET", "/api/v2/nothing", 404],
    ["GET", "/api/v2/barbers/0/slots?date=2025-07-29", 404],
    ["GET", "/api/v2/barbers/3/slots", 400],
    ["GET", "/api/v2/barbers/3/slots?date=tomorrow", 400],
    ["GET", "/api/v2/analytics/revenue?range=1y", 400],
    ["GET", "/api/v2/analytics/weather", 404],
    ["PATCH", "/api/v2/services/4", 405],
    ["DELETE", "/api/v2/services", 405],
  ])("answers %s %s with HTTP %i", (method, url, status) => {
    const result = routeRequest(method, url);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.status).toBe(status);
  });
});
