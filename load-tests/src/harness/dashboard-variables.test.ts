import { describe, expect, it } from "vitest";
import {
  type DashboardJson,
  grafanaRateInterval,
  panelQuery,
  resolveVariables,
} from "./dashboard-variables.js";

const dashboard: DashboardJson = {
  panels: [
    { title: "Overview", type: "row" },
    { title: "Hit ratio", type: "stat", targets: [{ refId: "A", expr: 'x{namespace=~"$namespace"}' }] },
    { title: "Two queries", type: "timeseries", targets: [{ expr: "a" }, { expr: "b" }] },
    { title: "Twice", type: "stat", targets: [{ expr: "a" }] },
    { title: "Twice", type: "stat", targets: [{ expr: "b" }] },
  ],
};

// 150 s measured with a 1 s scrape interval, as in `make bench`.
const window = { fromMs: 1_000_000, toMs: 1_150_000, scrapeIntervalSeconds: 1 };

describe("dashboard panel queries", () => {
  it("finds a panel's one query by its title", () => {
    expect(panelQuery(dashboard, "Hit ratio")).toBe('x{namespace=~"$namespace"}');
  });

  it.each([
    ["a missing panel", "Nope", /found 0/],
    ["two panels with the title", "Twice", /found 2/],
    ["a panel with two queries", "Two queries", /has 2 queries/],
  ])("refuses %s", (_what, title, error) => {
    expect(() => panelQuery(dashboard, title)).toThrow(error);
  });
});

describe("resolving the dashboard's variables for a time range", () => {
  it("sets $__range to the range in whole seconds", () => {
    expect(resolveVariables("increase(x[$__range])", window)).toBe("increase(x[150s])");
    expect(resolveVariables("$__range_s $__range_ms", window)).toBe("150 150000");
  });

  it("resolves query variables left at All to their allValue", () => {
    expect(resolveVariables('x{namespace=~"$namespace", policy=~"$policy"}', window)).toBe(
      'x{namespace=~".*", policy=~".*"}',
    );
  });

  it("writes chosen values as an escaped regex alternation", () => {
    expect(resolveVariables('x{policy=~"$policy"}', window, { policy: ["shop/a.b", "c"] })).toBe(
      'x{policy=~"(shop/a\\\\.b|c)"}',
    );
    expect(resolveVariables('x{policy=~"$policy"}', window, { policy: ["one"] })).toBe('x{policy=~"one"}');
  });

  describe("$__rate_interval", () => {
    it("is four scrape intervals for a short range", () => {
      expect(grafanaRateInterval(window)).toBe(4);
      expect(resolveVariables("rate(x[$__rate_interval])", window)).toBe("rate(x[4s])");
    });

    it("is $__interval plus a scrape interval once the range spreads over more points", () => {
      const day = { fromMs: 0, toMs: 86_400_000, scrapeIntervalSeconds: 15, maxDataPoints: 1000 };
      // 86.4 s per point, rounded up to 87 s, plus 15 s.
      expect(grafanaRateInterval(day)).toBe(102);
    });
  });

  it("refuses a variable it does not know, so no panel is checked half-resolved", () => {
    expect(() => resolveVariables("rate(x[$__unknown])", window)).toThrow(/\$__unknown/);
  });

  it("refuses a range that ends before it starts", () => {
    expect(() => resolveVariables("x", { ...window, toMs: window.fromMs })).toThrow(/ends before/);
  });
});
