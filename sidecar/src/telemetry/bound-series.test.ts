import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { bindCounter, bindHistogram } from "./bound-series.js";

/** The same metrics twice: one updated through prom-client alone, one through the bound series. */
function pair() {
  const make = () => {
    const registry = new Registry();
    const histogram = new Histogram({
      name: "t_seconds",
      help: "h",
      labelNames: ["route", "outcome"],
      buckets: [0.001, 0.01, 0.1],
      registers: [registry],
    });
    const counter = new Counter({ name: "t_total", help: "c", labelNames: ["route"], registers: [registry] });
    return { registry, histogram, counter };
  };
  return { plain: make(), bound: make() };
}

const VALUES = [0.0005, 0.001, 0.004, 0.05, 0.5, 7, 0, 0.01];

describe("bound series", () => {
  it("expose exactly what prom-client's own path exposes, bucket edges and overflow included", async () => {
    const { plain, bound } = pair();
    const observe = bindHistogram(bound.histogram, ["items", "hit"]);
    const other = bindHistogram(bound.histogram, ["items", "miss"]);
    const inc = bindCounter(bound.counter, ["items"]);
    for (const value of VALUES) {
      plain.histogram.labels("items", "hit").observe(value);
      plain.histogram.labels("items", "miss").observe(value * 2);
      plain.counter.labels("items").inc();
      plain.counter.labels("items").inc(2);
      observe.observe(value);
      other.observe(value * 2);
      inc.inc();
      inc.inc(2);
    }
    expect(await bound.registry.metrics()).toBe(await plain.registry.metrics());
    expect(await bound.registry.metrics()).toContain('t_seconds_count{route="items",outcome="hit"} 8');
  });

  it("keep counting after the registry is reset (prom-client's new record is found)", async () => {
    const { plain, bound } = pair();
    const observe = bindHistogram(bound.histogram, ["items", "hit"]);
    const inc = bindCounter(bound.counter, ["items"]);
    observe.observe(0.002);
    inc.inc();
    bound.registry.resetMetrics();
    plain.registry.resetMetrics();
    for (const value of VALUES) {
      plain.histogram.labels("items", "hit").observe(value);
      plain.counter.labels("items").inc();
      observe.observe(value);
      inc.inc();
    }
    expect(await bound.registry.metrics()).toBe(await plain.registry.metrics());
  });

  it("reject what prom-client rejects", () => {
    const { bound } = pair();
    const observe = bindHistogram(bound.histogram, ["items", "hit"]);
    const inc = bindCounter(bound.counter, ["items"]);
    observe.observe(0.1);
    inc.inc();
    expect(() => observe.observe(Number.NaN)).toThrow(TypeError);
    expect(() => inc.inc(-1)).toThrow();
  });
});
