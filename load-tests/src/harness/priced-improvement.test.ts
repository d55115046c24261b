import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pricedImprovement } from "./priced-improvement.js";
import { sample } from "./sample-fixture.js";
import { policyRoutes } from "./sidecar-route.js";
import type { Sample, TimedRequest } from "./stats.js";

const many = (n: number, s: Sample) => Array.from({ length: n }, () => s);
/** Grouped by the load's endpoint type (what the figure grouped by before it followed the routes). */
const byEndpoint = (s: Sample) => s.endpoint;
const demoRoute = policyRoutes(readFileSync(join(import.meta.dirname, "../../policies/demo.yaml"), "utf8"));
const byRoute = (s: TimedRequest) => demoRoute(s.method, s.path);

describe("pricedImprovement", () => {
  it("prices each request at its own endpoint's forwarded mean, not at the mean of all misses", () => {
    // analytics: slow (1 s) and well cached; profile: fast (250 ms) and never cached.
    const measured = [
      ...many(9, sample("analytics", 0, "hit")),
      sample("analytics", 1000, "miss"),
      ...many(10, sample("profile", 250, "miss")),
    ];
    // waited 1000 + 2500; would have cost 10 × 1000 + 10 × 250 → 1 − 3500 / 12500.
    expect(pricedImprovement(measured, [], byEndpoint)).toBeCloseTo(0.72, 10);
  });

  it("prices an endpoint the window never forwarded from the earlier requests", () => {
    const measured = many(10, sample("dashboard", 20, "hit"));
    const earlier = [sample("dashboard", 2000, "miss"), sample("dashboard", 5, "hit")];
    expect(pricedImprovement(measured, earlier, byEndpoint)).toBeCloseTo(0.99, 10);
  });

  it("leaves out endpoints it cannot price, and says so with NaN when none can be", () => {
    const measured = [...many(4, sample("catalog", 3, "hit")), sample("slots", 100, "miss")];
    expect(pricedImprovement(measured, [], byEndpoint)).toBe(0);
    expect(pricedImprovement(many(3, sample("catalog", 3, "hit")), [], byEndpoint)).toBeNaN();
  });

  it("does not price an endpoint from failed requests", () => {
    const failed = { ...sample("slots", 5, "miss"), failed: true };
    const measured = [sample("slots", 2, "hit"), failed];
    expect(pricedImprovement(measured, [], byEndpoint)).toBeNaN();
  });

  describe("grouped by the sidecar's route (the demo policy)", () => {
    const availability = { method: "PUT", path: "/api/v2/barbers/3/availability" };

    it('leaves out the requests the sidecar labels "none", as the panel does', () => {
      // 4 slots hits at 5 ms, a miss at 100 ms; 2 availability writes at 300 ms (route none).
      const measured = [
        ...many(4, sample("slots", 5, "hit")),
        sample("slots", 100, "miss"),
        ...many(2, sample("write", 300, "bypass", availability)),
      ];
      expect(pricedImprovement(measured, [], byRoute)).toBeCloseTo(1 - 120 / 500, 10);
      // Grouped by endpoint type the writes count, priced at their own time: 1 − 720 / 1100.
      expect(pricedImprovement(measured, [], byEndpoint)).toBeCloseTo(1 - 720 / 1100, 10);
    });

    it("prices a write to a route's path inside that route, with the route's reads", () => {
      // user-profile: 3 hits at 2 ms, a miss at 100 ms and a PUT at 300 ms: forwarded mean 200 ms.
      const measured = [
        ...many(3, sample("profile", 2, "hit")),
        sample("profile", 100, "miss"),
        sample("write", 300, "bypass"),
      ];
      expect(pricedImprovement(measured, [], byRoute)).toBeCloseTo(1 - 406 / 1000, 10);
    });

    it("counts reads that are not samples of the load (the write checks) by their route", () => {
      const slots = sample("slots", 5, "hit");
      const check: TimedRequest = { ...slots, latencyMs: 200, cache: "miss" };
      // 3 hits at 5 ms and the check's miss at 200 ms: all priced at 200 ms.
      expect(pricedImprovement<TimedRequest>([slots, slots, slots, check], [], byRoute)).toBeCloseTo(
        1 - 215 / 800,
        10,
      );
    });
  });
});
