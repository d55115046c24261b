import { describe, expect, it } from "vitest";
import { evaluateCheck } from "./checks.js";

describe("evaluateCheck", () => {
  describe("version", () => {
    it.each([
      [3, 3, false],
      [3, 4, false],
      [3, 2, true],
    ])("wrote %i, read %i: stale=%s", (written, read, stale) => {
      expect(
        evaluateCheck("version", undefined, { id: 1, version: written }, { id: 1, version: read }),
      ).toMatchObject({
        stale,
        verifiable: true,
      });
    });

    it("finds the written item in a list", () => {
      const read = {
        services: [
          { id: 1, version: 9 },
          { id: 2, version: 1 },
        ],
      };
      expect(evaluateCheck("version", "services", { id: 2, version: 2 }, read).stale).toBe(true);
      expect(evaluateCheck("version", "services", { id: 1, version: 2 }, read).stale).toBe(false);
    });

    it("cannot tell when the item is absent", () => {
      expect(evaluateCheck("version", "services", { id: 5, version: 2 }, { services: [] })).toMatchObject({
        stale: false,
        verifiable: false,
      });
    });
  });

  describe("slot-taken", () => {
    const written = { id: 7, startsAt: "2025-07-29 10:30:00" };
    it("reports stale when the booked time is still free", () => {
      expect(evaluateCheck("slot-taken", undefined, written, { slots: [{ time: "10:30" }] }).stale).toBe(
        true,
      );
    });

    it("is satisfied when the booked time is gone", () => {
      expect(
        evaluateCheck("slot-taken", undefined, written, { slots: [{ time: "10:15" }, { time: "11:30" }] }),
      ).toMatchObject({
        stale: false,
        verifiable: true,
      });
    });
  });
});
