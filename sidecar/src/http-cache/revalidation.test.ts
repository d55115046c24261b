import { describe, expect, it } from "vitest";
import { freshenedHeaders, selectsStored, validatorsOf } from "./revalidation.js";

describe("revalidation", () => {
  describe("validators of a stored response", () => {
    it.each([
      ["an ETag", ["etag", '"v1"'], { "if-none-match": '"v1"' }],
      ["a weak ETag", ["etag", 'W/"v1"'], { "if-none-match": 'W/"v1"' }],
      [
        "a Last-Modified",
        ["last-modified", "Tue, 01 Dec 2026 10:00:00 GMT"],
        { "if-modified-since": "Tue, 01 Dec 2026 10:00:00 GMT" },
      ],
      ["no validator", ["content-type", "application/json"], {}],
    ])("sends the preconditions for %s", (_name, headers, expected) => {
      expect(validatorsOf({ status: 200, headers })).toEqual(expected);
    });

    it("sends both when the response has both (the upstream prefers If-None-Match)", () => {
      const headers = ["etag", '"v1"', "last-modified", "Tue, 01 Dec 2026 10:00:00 GMT"];
      expect(Object.keys(validatorsOf({ status: 200, headers }))).toEqual([
        "if-none-match",
        "if-modified-since",
      ]);
    });

    it("does not revalidate a stored error response (it is refetched whole)", () => {
      expect(validatorsOf({ status: 404, headers: ["etag", '"x"'] })).toEqual({});
    });
  });

  describe("freshening stored fields with a 304", () => {
    const stored = [
      "content-type",
      "application/json",
      "cache-control",
      "max-age=60",
      "etag",
      '"v1"',
      "x-trace",
      "a",
      "x-trace",
      "b",
    ];

    it("replaces every stored value of each field the 304 carries, and keeps the rest", () => {
      const headers = freshenedHeaders(stored, {
        "cache-control": "max-age=300",
        date: "Tue, 01 Dec 2026 10:05:00 GMT",
        "x-trace": "c",
      });
      expect(headers).toEqual({
        "content-type": "application/json",
        etag: '"v1"',
        "cache-control": "max-age=300",
        date: "Tue, 01 Dec 2026 10:05:00 GMT",
        "x-trace": "c",
      });
    });

    it("keeps the stored body's framing and coding, and never takes hop-by-hop fields or Set-Cookie", () => {
      const headers = freshenedHeaders(stored, {
        "content-length": "0",
        "content-type": "text/plain",
        "content-encoding": "gzip",
        connection: "keep-alive, x-hop",
        "x-hop": "1",
        "keep-alive": "timeout=5",
        "set-cookie": ["a=1"],
        age: "3",
      });
      expect(headers).toEqual(freshenedHeaders(stored, {}));
    });

    it("presents repeated fields as arrays to the storability rules", () => {
      expect(freshenedHeaders(stored, {})["x-trace"]).toEqual(["a", "b"]);
    });
  });
});

describe("whether a 304 selects the stored response", () => {
  const stored = ["etag", '"v1"', "last-modified", "Tue, 01 Dec 2026 10:00:00 GMT"];
  it.each([
    ["the same ETag", { etag: '"v1"' }, true],
    ["another ETag", { etag: '"v2"' }, false],
    ["a weak ETag for a strong stored one", { etag: 'W/"v1"' }, false],
    ["the same Last-Modified, no ETag", { "last-modified": "Tue, 01 Dec 2026 10:00:00 GMT" }, true],
    ["another Last-Modified, no ETag", { "last-modified": "Tue, 01 Dec 2026 10:00:01 GMT" }, false],
    ["no validator", { "cache-control": "max-age=60" }, true],
    ["a Set-Cookie", { etag: '"v1"', "set-cookie": "a=1" }, false],
  ])("with %s: %s", (_name, update, expected) => {
    expect(selectsStored(stored, update)).toBe(expected);
  });
});
