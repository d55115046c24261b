import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";

function capture() {
  let text = "";
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString("utf8");
      done();
    },
  });
  return { logger: createLogger("debug", stream), text: () => text };
}

/** What ioredis rejects with when a handshake's HELLO 3 AUTH fails. */
function helloError(): Error {
  const error = new Error("WRONGPASS invalid username-password pair or user is disabled.");
  return Object.assign(error, { command: { name: "hello", args: ["3", "AUTH", "apicache", "pw-0f3c9a"] } });
}

describe("the sidecar's logger", () => {
  describe("when an ioredis error carries its failed command", () => {
    it.each(["err", "error"])(
      "keeps the command's name and never its arguments (field %s)",
      async (field) => {
        const { logger, text } = capture();
        logger.warn({ [field]: helloError() }, "Redis refused");
        logger.flush();
        await new Promise((resolve) => setImmediate(resolve));
        const line = JSON.parse(text().trim());
        expect(line[field].command).toEqual({ name: "hello" });
        expect(line[field].message).toMatch(/WRONGPASS/);
        expect(text()).not.toContain("pw-0f3c9a");
      },
    );
  });

  it("logs other errors as pino does, message and stack", async () => {
    const { logger, text } = capture();
    logger.error({ err: new Error("boom") }, "failed");
    await new Promise((resolve) => setImmediate(resolve));
    const line = JSON.parse(text().trim());
    expect(line.err).toMatchObject({ type: "Error", message: "boom" });
    expect(line.err.stack).toMatch(/boom/);
  });
});
