import { describe, expect, it } from "vitest";
import { isConnectionLoss, onUnhandledRejection } from "./process-guard.js";
import type { Logger } from "./telemetry/logger.js";

function edges() {
  const logged: { level: string; code: unknown; msg: string }[] = [];
  const exits: number[] = [];
  const at =
    (level: string) =>
    (fields: { code?: unknown }, msg: string): void => {
      logged.push({ level, code: fields.code, msg });
    };
  const log = { warn: at("warn"), fatal: at("fatal") } as unknown as Logger;
  return { logged, exits, edges: { log, exit: (code: number) => exits.push(code) } };
}

describe("an unhandled promise rejection in the sidecar process", () => {
  it("is logged and survived when ioredis rejects a command of its own as the connection closes", () => {
    for (const message of [
      "Connection is closed.",
      "Stream isn't writeable and enableOfflineQueue options is false",
    ]) {
      const { logged, exits, edges: e } = edges();
      onUnhandledRejection(new Error(message), e);
      expect(exits).toEqual([]);
      expect(logged).toEqual([
        expect.objectContaining({ level: "warn", code: "APICACHE_ERR_UNHANDLED_REJECTION" }),
      ]);
    }
  });

  it("exits non-zero on anything else: a bug, whose state nobody knows", () => {
    for (const reason of [
      new Error("Connection is closed. (not quite)"),
      new TypeError("x is undefined"),
      "a string",
    ]) {
      const { logged, exits, edges: e } = edges();
      onUnhandledRejection(reason, e);
      expect(exits).toEqual([1]);
      expect(logged.map((entry) => entry.level)).toEqual(["fatal"]);
    }
    expect(isConnectionLoss({ message: "Connection is closed." })).toBe(false);
  });
});
