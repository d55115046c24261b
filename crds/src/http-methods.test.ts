import { describe, expect, it } from "vitest";
import {
  CACHEABLE_METHODS,
  HTTP_METHODS,
  isSafeMethod,
  SAFE_METHODS,
  UNSAFE_METHODS,
} from "./http-methods.js";

describe("HTTP methods", () => {
  it.each(["GET", "HEAD", "OPTIONS", "TRACE"])("%s is safe (RFC 9110 §9.2.1)", (method) => {
    expect(isSafeMethod(method)).toBe(true);
  });

  it.each(["CONNECT", "POST", "PUT", "PATCH", "DELETE", "PROPFIND", "get"])(
    "%s is not safe: its success may change state",
    (method) => {
      expect(isSafeMethod(method)).toBe(false);
    },
  );

  it("caches only safe methods, names only unsafe ones in invalidation rules, and no method is both", () => {
    for (const method of CACHEABLE_METHODS) expect(isSafeMethod(method)).toBe(true);
    for (const method of UNSAFE_METHODS) expect(isSafeMethod(method)).toBe(false);
    expect(HTTP_METHODS).toEqual(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]);
    expect(SAFE_METHODS).not.toContain("CONNECT");
  });
});
