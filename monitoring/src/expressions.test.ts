import { describe, expect, it } from "vitest";
import { labelValuesSelector, resolveGrafanaVariables } from "./expressions.js";
import { quantile, ratioOrZero, sel, sumBy } from "./promql.js";

describe("resolveGrafanaVariables", () => {
  it.each([
    ['rate(x{policy=~"$policy"}[$__rate_interval])', 'rate(x{policy=~".*"}[1m])'],
    ['x{namespace=~"$namespace", route=~"$route"}', 'x{namespace=~".*", route=~".*"}'],
    ['x{a="$other"}', 'x{a="$other"}'],
  ])("turns %s into %s", (input, output) => {
    expect(resolveGrafanaVariables(input, "1m")).toBe(output);
  });
});

describe("labelValuesSelector", () => {
  it("extracts the selector of a label_values() query", () => {
    expect(labelValuesSelector('label_values(x{a=~"$a"}, policy)')).toBe('x{a=~"$a"}');
  });

  it("rejects anything else", () => {
    expect(() => labelValuesSelector("up")).toThrow(/label_values/);
  });
});

describe("promql builders", () => {
  it("write selectors, sums and quantiles uniformly", () => {
    expect(sel("m")).toBe("m");
    expect(sel("m", 'a="1"', "", 'b=~"2"')).toBe('m{a="1", b=~"2"}');
    expect(sumBy([], "m")).toBe("sum(m)");
    expect(quantile(0.95, ["policy"], "h_bucket", "5m")).toBe(
      "histogram_quantile(0.95, sum by (policy, le) (rate(h_bucket[5m])))",
    );
  });

  it("count a missing numerator as zero where the denominator has data", () => {
    expect(ratioOrZero("e", "t")).toBe("(e or t * 0) / t");
  });
});
