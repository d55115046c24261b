import { describe, expect, it } from "vitest";
import { BodyTracker, parseHead, requestFraming, responseFraming } from "./http1-framing.js";

const bytes = (text: string) => Buffer.from(text, "latin1");

/** Feeds `text` in pieces of `size` bytes; returns the bytes counted as body and whether it ended. */
function feed(tracker: BodyTracker, text: string, size: number): { body: string; done: boolean } {
  let body = "";
  for (let i = 0; i < text.length; i += size) {
    const piece = bytes(text.slice(i, i + size));
    const taken = tracker.push(piece);
    if (taken === "invalid") return { body: "invalid", done: false };
    body += piece.subarray(0, taken).toString("latin1");
  }
  return { body, done: tracker.done };
}

describe("HTTP/1.1 message framing", () => {
  describe("parseHead", () => {
    it("waits for the blank line, then gives the head's length, status and fields", () => {
      expect(parseHead(bytes("HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket"))).toBe("incomplete");
      const head = parseHead(
        bytes("HTTP/1.1 426 Upgrade Required\r\nX-Odd: Kept\r\nContent-Length: 2\r\n\r\nok"),
      );
      expect(head).toEqual({
        length: 65,
        status: 426,
        fields: [
          ["X-Odd", "Kept"],
          ["Content-Length", "2"],
        ],
      });
    });

    it("has no status for something that is not a response", () => {
      const head = parseHead(bytes("GET / HTTP/1.1\r\n\r\n"));
      expect(head).not.toBe("incomplete");
      expect((head as { status?: number }).status).toBeUndefined();
    });
  });

  describe("a request body", () => {
    it.each([
      ["no body", [], { kind: "none" }],
      ["Content-Length", [["Content-Length", "5"]], { kind: "length", bytes: 5 }],
      ["chunked", [["Transfer-Encoding", "gzip, chunked"]], { kind: "chunked" }],
      ["a bad length", [["Content-Length", "5, 6"]], "invalid"],
      ["a coding that does not end in chunked", [["Transfer-Encoding", "gzip"]], "invalid"],
    ] as const)("is framed by %s", (_name, fields, framing) => {
      expect(requestFraming(fields)).toEqual(framing);
    });
  });

  describe("a response body", () => {
    it("is empty for HEAD, 1xx, 204 and 304, and read until close without a length", () => {
      expect(responseFraming("HEAD", 200, [["Content-Length", "9"]])).toEqual({ kind: "none" });
      expect(responseFraming("GET", 304, [])).toEqual({ kind: "none" });
      expect(responseFraming("GET", 400, [])).toEqual({ kind: "close" });
      expect(responseFraming("GET", 426, [["content-length", "3"]])).toEqual({ kind: "length", bytes: 3 });
    });
  });

  describe("BodyTracker", () => {
    it.each([1, 3, 100])("stops at the end of a Content-Length body, fed %i bytes at a time", (size) => {
      const tracker = new BodyTracker({ kind: "length", bytes: 5 });
      expect(feed(tracker, "hello, and then the next request", size)).toEqual({ body: "hello", done: true });
    });

    it.each([1, 2, 7, 1000])(
      "stops at the end of a chunked body with a trailer, fed %i bytes at a time",
      (size) => {
        const body = "5;ext=1\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: yes\r\n\r\n";
        const tracker = new BodyTracker({ kind: "chunked" });
        expect(feed(tracker, `${body}GET /next HTTP/1.1\r\n\r\n`, size)).toEqual({ body, done: true });
      },
    );

    it("reports a malformed chunked body", () => {
      expect(new BodyTracker({ kind: "chunked" }).push(bytes("zz\r\n"))).toBe("invalid");
      expect(new BodyTracker({ kind: "chunked" }).push(bytes("1\r\naXY"))).toBe("invalid");
    });

    it("is done at once without a body, and never done for a body read until close", () => {
      expect(new BodyTracker({ kind: "none" }).done).toBe(true);
      const close = new BodyTracker({ kind: "close" });
      expect(close.push(bytes("anything"))).toBe(8);
      expect(close.done).toBe(false);
    });
  });
});
