import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { boundedBody, holdBodyWhile } from "./held-body.js";

function later(turns: number, action: () => void): void {
  if (turns === 0) action();
  else setImmediate(() => later(turns - 1, action));
}

describe("boundedBody", () => {
  it.each([
    { status: 201, headers: { "content-length": "11" }, bounded: true },
    { status: 204, headers: {}, bounded: true },
    { status: 304, headers: { "transfer-encoding": "chunked" }, bounded: true },
    { status: 200, headers: { "content-length": "0" }, bounded: true },
    { status: 200, headers: { "content-length": String(64 * 1024 + 1) }, bounded: false },
    { status: 200, headers: { "transfer-encoding": "chunked" }, bounded: false },
    { status: 200, headers: {}, bounded: false },
    { status: 200, headers: { "content-length": "abc" }, bounded: false },
  ])("says $bounded for status $status with $headers", ({ status, headers, bounded }) => {
    expect(boundedBody(status, headers)).toBe(bounded);
  });
});

describe("holdBodyWhile", () => {
  it("holds a bounded body to its end even when the wait is over first", async () => {
    const body = new PassThrough();
    body.write("a");
    later(5, () => body.end("b"));
    const { value, held } = await holdBodyWhile(body, 1024, Promise.resolve("done"), { untilEnd: true });
    expect(value).toBe("done");
    expect(held.ended).toBe(true);
    expect(Buffer.concat(held.chunks as Buffer[]).toString()).toBe("ab");
  });

  it("catches an end already parsed when the wait is over, without the bounded hint", async () => {
    const body = new PassThrough();
    body.end("whole");
    const { held } = await holdBodyWhile(body, 1024, Promise.resolve(undefined));
    expect(held.ended).toBe(true);
    expect(held.size).toBe(5);
  });

  it("releases a streaming body that has not ended, keeping what arrived", async () => {
    const body = new PassThrough();
    body.write("first");
    const { held } = await holdBodyWhile(body, 1024, Promise.resolve(undefined));
    expect(held.ended).toBe(false);
    expect(Buffer.concat(held.chunks as Buffer[]).toString()).toBe("first");
    body.destroy();
  });

  it("stops holding a bounded body at the limit", async () => {
    const body = new PassThrough();
    body.write(Buffer.alloc(8));
    const { held } = await holdBodyWhile(body, 8, Promise.resolve(undefined), { untilEnd: true });
    expect(held.ended).toBe(false);
    expect(held.size).toBe(8);
    body.destroy();
  });
});
