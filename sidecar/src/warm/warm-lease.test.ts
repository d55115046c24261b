import { describe, expect, it } from "vitest";
import { type WarmClaims, WarmLease } from "./warm-lease.js";

function claims(reply: "claimed" | "taken" | "unavailable") {
  const asked: { key: string; ttlMs: number }[] = [];
  const fake: WarmClaims = {
    claim: async (key, ttlMs) => {
      asked.push({ key, ttlMs });
      return reply;
    },
    unclaim: async () => {},
  };
  return { fake, asked };
}

/** Claims shared by replicas, as in Redis (`SET NX`, `DEL`); expiry does not matter here. */
function sharedClaims(): WarmClaims {
  const held = new Set<string>();
  return {
    claim: async (key) => {
      if (held.has(key)) return "taken";
      held.add(key);
      return "claimed";
    },
    unclaim: async (key) => void held.delete(key),
  };
}

describe("warming once across replicas", () => {
  const entry = { path: "/services", host: "api.svc", everyMs: 10_000 };
  const now = () => 1_000_025_000;

  it("warms when this replica claims the entry's slot", async () => {
    const { fake, asked } = claims("claimed");
    expect((await new WarmLease({ claims: fake, prefix: "p", now }).decide(entry)).verdict).toBe("warm");
    expect(asked).toEqual([{ key: "p:w|100002|api.svc|/services", ttlMs: 15_000 }]);
  });

  it("skips when another replica claimed it", async () => {
    const { fake } = claims("taken");
    expect((await new WarmLease({ claims: fake, prefix: "p", now }).decide(entry)).verdict).toBe("skip");
  });

  it("warms when Redis cannot be asked, and without Redis", async () => {
    const { fake } = claims("unavailable");
    expect((await new WarmLease({ claims: fake, prefix: "p", now }).decide(entry)).verdict).toBe("warm");
    expect((await new WarmLease({ prefix: "p", now }).decide(entry)).verdict).toBe("warm");
  });

  it("runs next at the start of the next slot (the same moment on every replica)", () => {
    expect(new WarmLease({ prefix: "p", now }).nextRunInMs(entry)).toBe(5_000);
  });

  describe("when the replica that claimed a slot fails to warm it", () => {
    it("gives the slot to a replica that skipped it and looks again", async () => {
      const shared = sharedClaims();
      const [a, b] = [
        new WarmLease({ claims: shared, prefix: "p", now }),
        new WarmLease({ claims: shared, prefix: "p", now }),
      ];
      const claimed = await a.decide(entry);
      const skipped = await b.decide(entry);
      expect([claimed.verdict, skipped.verdict]).toEqual(["warm", "skip"]);
      expect((await b.decide(entry, skipped.slot)).verdict).toBe("skip"); // a is still warming
      await claimed.forfeit(); // a's own app refused
      expect((await b.decide(entry, skipped.slot)).verdict).toBe("warm");
    });

    it("looks again halfway through what is left of the slot, and not once the slot is over", async () => {
      let at = now();
      const lease = new WarmLease({ claims: sharedClaims(), prefix: "p", now: () => at });
      expect(lease.retryInMs(entry)).toBe(2_500);
      const { slot } = await lease.decide(entry);
      at += 5_000; // the next slot
      expect((await lease.decide(entry, slot)).verdict).toBe("skip");
    });
  });
});
