import { describe, expect, it } from "vitest";
import { generateDataset, offeredServices } from "./generate.js";
import { BARBER_USER_OFFSET, barberCount, SIZES, shopOwnerUserId } from "./sizes.js";

const tiny = SIZES.tiny;
const rowsOf = (table: string, seed?: number) =>
  [...generateDataset(tiny, seed)].filter((b) => b.table === table).flatMap((b) => b.rows);

describe("generateDataset", () => {
  it("is deterministic for a seed", () => {
    expect(rowsOf("appointments", 9).slice(0, 50)).toEqual(rowsOf("appointments", 9).slice(0, 50));
    expect(rowsOf("appointments", 9).slice(0, 50)).not.toEqual(rowsOf("appointments", 10).slice(0, 50));
  });

  it("generates the configured counts", () => {
    expect(rowsOf("appointments")).toHaveLength(tiny.appointments);
    expect(rowsOf("barbers")).toHaveLength(barberCount(tiny));
    expect(rowsOf("users")).toHaveLength(tiny.clients + barberCount(tiny));
  });

  it("gives barbers user ids above the offset and makes each shop's first barber its owner", () => {
    const users = rowsOf("users");
    const owner = users.find((u) => u[0] === shopOwnerUserId(tiny, 2));
    expect(owner?.[1]).toBe("owner");
    expect(users.filter((u) => (u[0] as number) > BARBER_USER_OFFSET)).toHaveLength(barberCount(tiny));
  });

  it("pays exactly the completed appointments", () => {
    const completed = rowsOf("appointments").filter((a) => a[7] === "completed").length;
    expect(rowsOf("payments")).toHaveLength(completed);
  });

  it("lets every barber offer catalog services only", () => {
    for (let b = 1; b <= barberCount(tiny); b++) {
      for (const s of offeredServices(tiny, b)) expect(s).toBeGreaterThanOrEqual(1);
    }
  });
});
