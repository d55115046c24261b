import { describe, expect, it } from "vitest";
import { answersNotModified } from "./preconditions.js";

const JAN_1 = "Thu, 01 Jan 2026 00:00:00 GMT";
const JAN_2 = "Fri, 02 Jan 2026 00:00:00 GMT";
const entry = (headers: string[], status = 200) => ({ status, headers, storedAt: Date.parse(JAN_2) });

describe("a client's validation request answered from the cache", () => {
  it.each([
    ['"v1"', true],
    ['W/"v1"', true],
    ['"v0", "v1"', true],
    ["*", true],
    ['"v2"', false],
  ])('If-None-Match %s against ETag "v1": 304 is %s', (condition, expected) => {
    expect(answersNotModified("GET", { "if-none-match": condition }, entry(["etag", '"v1"']))).toBe(expected);
  });

  it("does not match If-None-Match when the stored response has no ETag", () => {
    expect(answersNotModified("GET", { "if-none-match": "*" }, entry([]))).toBe(false);
  });

  it.each([
    [JAN_1, JAN_1, true],
    [JAN_2, JAN_1, true],
    [JAN_1, JAN_2, false],
  ])("If-Modified-Since %s with Last-Modified %s: 304 is %s", (since, modified, expected) => {
    expect(
      answersNotModified("GET", { "if-modified-since": since }, entry(["last-modified", modified])),
    ).toBe(expected);
  });

  it("falls back to Date, then to when the cache stored it", () => {
    expect(answersNotModified("GET", { "if-modified-since": JAN_1 }, entry(["date", JAN_1]))).toBe(true);
    expect(answersNotModified("GET", { "if-modified-since": JAN_1 }, entry([]))).toBe(false); // stored Jan 2
    expect(answersNotModified("GET", { "if-modified-since": JAN_2 }, entry([]))).toBe(true);
  });

  it("lets If-None-Match decide when both are sent", () => {
    const headers = { "if-none-match": '"v2"', "if-modified-since": JAN_2 };
    expect(answersNotModified("GET", headers, entry(["etag", '"v1"', "last-modified", JAN_1]))).toBe(false);
  });

  it.each([
    ["an invalid date", "GET", { "if-modified-since": "yesterday" }, 200],
    ["a stored 404", "GET", { "if-none-match": "*" }, 404],
    ["a POST", "POST", { "if-none-match": "*" }, 200],
  ])("ignores the precondition for %s", (_name, method, headers, status) => {
    expect(answersNotModified(method, headers, entry(["etag", '"v1"', "last-modified", JAN_1], status))).toBe(
      false,
    );
  });
});
