import { describe, expect, it } from "vitest";
import {
  parseAvailability,
  parseCreateAppointment,
  parseProfileUpdate,
  parseRecordPayment,
  parseServiceUpdate,
} from "./bodies.js";

describe("write bodies", () => {
  it("accepts a booking without a time (first free slot)", () => {
    expect(parseCreateAppointment({ barberId: 1, clientId: 2, serviceId: 3, date: "2025-07-29" })).toEqual({
      ok: true,
      value: { barberId: 1, clientId: 2, serviceId: 3, date: "2025-07-29" },
    });
  });

  it("lists every problem of a bad booking", () => {
    const result = parseCreateAppointment({
      barberId: -1,
      serviceId: "x",
      date: "soon",
      time: "25:00",
      extra: 1,
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems).toHaveLength(6);
  });

  it.each([
    [parseRecordPayment, { appointmentId: 3, tipCents: 100, method: "card" }, true],
    [parseRecordPayment, { appointmentId: 3, method: "cheque" }, false],
    [parseAvailability, { days: [{ weekday: 2, starts: "09:00", ends: "18:00" }] }, true],
    [parseAvailability, { days: [{ weekday: 8, starts: "09:00", ends: "18:00" }] }, false],
    [parseAvailability, { days: [{ weekday: 2, starts: "18:00", ends: "09:00" }] }, false],
    [parseAvailability, { days: [] }, false],
    [parseProfileUpdate, { bio: "hello" }, true],
    [parseProfileUpdate, {}, false],
    [parseProfileUpdate, { preferences: [1] }, false],
    [parseServiceUpdate, { description: "x", basePriceCents: 2500 }, true],
    [parseServiceUpdate, { active: "yes" }, false],
    [parseServiceUpdate, [], false],
  ] as const)("%o accepts %j: %s", (parse, body, ok) => {
    expect((parse as (b: unknown) => { ok: boolean })(body).ok).toBe(ok);
  });
});
