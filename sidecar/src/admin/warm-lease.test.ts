import { describe, expect, it } from "vitest";
import { type WarmClaims, WarmLease } from "./warm-lease.js";

function claims(reply: "claimed" | "taken" | "unavailable") {
  const asked: { key: string; ttlMs: number }[] = [];
  const fake: WarmClaims = {
    claim: async (key, ttlMs) => {
      asked.push({ key, ttlMs });
      return reply;
    },
  };
  return { fake, asked };
}

describe("warming once across replicas", () => {
  const entry = { path: "/services", host: "api.svc", everyMs: 10_000 };
  const now = () => 1_000_025_000;

  it("warms when this replica claims the entry's slot", async () => {
    const { fake, asked } = claims("claimed");
    expect(await new WarmLease({ claims: fake, prefix: "p", now }).decide(entry)).toBe("warm");
    expect(asked).toEqual([{ key: "p:w|100002|api.svc|/services", ttlMs: 15_000 }]);
  });

  it("skips when another replica claimed it", async () => {
    const { fake } = claims("taken");
    expect(await new WarmLease({ claims: fake, prefix: "p", now }).decide(entry)).toBe("skip");
  });

  it("warms when Redis cannot be asked, and without Redis", async () => {
    const { fake } = claims("unavailable");
    expect(await new WarmLease({ claims: fake, prefix: "p", now }).decide(entry)).toBe("warm");
    expect(await new WarmLease({ prefix: "p", now }).decide(entry)).toBe("warm");
  });

  it("runs next at the start of the next slot (the same moment on every replica)", () => {
    expect(new WarmLease({ prefix: "p", now }).nextRunInMs(entry)).toBe(5_000);
  });
});
