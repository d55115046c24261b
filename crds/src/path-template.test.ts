import { describe, expect, it } from "vitest";
import { parsePathTemplate, tagPlaceholders } from "./path-template.js";

describe("parsePathTemplate", () => {
  describe("when the template is valid", () => {
    it("reads literals, params, single wildcards and a trailing rest", () => {
      const result = parsePathTemplate("/api/v2/barbers/:barberId/*/slots/**");
      expect(result).toEqual({
        ok: true,
        template: {
          source: "/api/v2/barbers/:barberId/*/slots/**",
          params: ["barberId"],
          segments: [
            { kind: "literal", value: "api" },
            { kind: "literal", value: "v2" },
            { kind: "literal", value: "barbers" },
            { kind: "param", name: "barberId" },
            { kind: "any" },
            { kind: "literal", value: "slots" },
            { kind: "rest" },
          ],
        },
      });
    });

    it("accepts the root path", () => {
      expect(parsePathTemplate("/")).toEqual({
        ok: true,
        template: { source: "/", params: [], segments: [] },
      });
    });
  });

  describe("when the template is invalid", () => {
    it.each([
      ["api/v2", "must start with"],
      ["/api//v2", "empty path segment"],
      ["/api/**/v2", '"**" may only be the last segment'],
      ["/api/:id/x/:id", 'parameter ":id" appears twice'],
      ["/api/:", "invalid parameter name"],
      ["/api/:1abc", "invalid parameter name"],
      ["/api/v*", '"*" must be a whole segment'],
      ["/api/a b", "invalid characters"],
      ["/api/", "empty path segment"],
    ])("rejects %j (%s)", (source, message) => {
      const result = parsePathTemplate(source);
      expect(result.ok).toBe(false);
      expect(result.ok ? "" : result.message).toContain(message);
    });
  });
});

describe("tagPlaceholders", () => {
  it.each([
    ["slots", []],
    ["barber:{barberId}", ["barberId"]],
    ["{a}-{b}", ["a", "b"]],
  ])("finds the placeholders in %j", (tag, names) => {
    expect(tagPlaceholders(tag)).toEqual(names);
  });
});
