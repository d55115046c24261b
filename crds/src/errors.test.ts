import { describe, expect, it } from "vitest";
import { ApicacheError, errorBody, errorShape } from "./errors.js";
import { formatProblems, INVALID_POLICY_CODE, InvalidPolicyError } from "./problems.js";

describe("ApicacheError", () => {
  describe("without details", () => {
    const error = new ApicacheError("APICACHE_ERR_EXAMPLE", "do this instead");

    it("carries its code and message", () => {
      expect(error).toBeInstanceOf(Error);
      expect(error).toBeInstanceOf(ApicacheError);
      expect([error.code, error.message]).toEqual(["APICACHE_ERR_EXAMPLE", "do this instead"]);
    });

    it("has no details and no cause of its own", () => {
      expect(Object.hasOwn(error, "details")).toBe(false);
      expect(Object.hasOwn(error, "cause")).toBe(false);
    });

    it("serializes to code and message only", () => {
      expect(JSON.parse(JSON.stringify(error))).toEqual({
        code: "APICACHE_ERR_EXAMPLE",
        message: "do this instead",
      });
    });

    it("answers HTTP as error and message only", () => {
      expect(errorBody(error)).toEqual({ error: "APICACHE_ERR_EXAMPLE", message: "do this instead" });
    });
  });

  describe("with details and a cause", () => {
    const cause = new Error("ECONNREFUSED");
    const error = new ApicacheError("APICACHE_ERR_EXAMPLE", "retry", { details: { port: 6379 }, cause });

    it("keeps the cause as Error does", () => {
      expect(error.cause).toBe(cause);
    });

    it("shows the details in every rendering, never the cause or the stack", () => {
      expect(errorShape(error)).toEqual({
        code: "APICACHE_ERR_EXAMPLE",
        message: "retry",
        details: { port: 6379 },
      });
      expect(JSON.parse(JSON.stringify(error))).toEqual(errorShape(error));
      expect(errorBody(error)).toEqual({
        error: "APICACHE_ERR_EXAMPLE",
        message: "retry",
        details: { port: 6379 },
      });
    });
  });

  it("renders a plain object of the shape as it renders the error", () => {
    expect(errorBody({ code: "APICACHE_ERR_EXAMPLE", message: "m" })).toEqual({
      error: "APICACHE_ERR_EXAMPLE",
      message: "m",
    });
  });
});

describe("InvalidPolicyError", () => {
  const problems = [
    { path: "spec.routes[0].ttl", message: "must be between 1s and 168h" },
    { path: "", message: "a CachePolicy must be an object" },
  ];
  const error = new InvalidPolicyError(problems, "booking.yaml");

  it("is an ApicacheError with the policy code", () => {
    expect(error).toBeInstanceOf(ApicacheError);
    expect(error.code).toBe(INVALID_POLICY_CODE);
    expect(error.name).toBe("InvalidPolicyError");
  });

  it("says every problem in its message", () => {
    expect(error.message).toBe(`booking.yaml is invalid: ${formatProblems(problems)}`);
  });

  it("lists every problem and the source in its details", () => {
    expect(error.details).toEqual({ source: "booking.yaml", problems });
    expect(error.problems).toEqual(problems);
    expect(error.source).toBe("booking.yaml");
  });

  it("names a CachePolicy when not told the source", () => {
    expect(new InvalidPolicyError(problems).message).toMatch(/^CachePolicy is invalid: /);
  });
});
