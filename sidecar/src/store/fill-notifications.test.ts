import { EventEmitter } from "node:events";
import { type Redis, ReplyError } from "ioredis";
import type { Logger } from "pino";
import { describe, expect, it } from "vitest";
import { createFillNotifications } from "./fill-notifications.js";

/** The subscriber's copy of a standalone client: SUBSCRIBE answers what the test says. Fakes, not Redis. */
class FakeSubscriber extends EventEmitter {
  status = "ready";
  subscribes = 0;
  answer: () => Promise<number> = async () => 1;
  readonly disconnects: boolean[] = [];
  subscribe() {
    this.subscribes++;
    return this.answer();
  }
  disconnect(reconnect = false) {
    this.disconnects.push(reconnect);
  }
}

function setUp() {
  const subscriber = new FakeSubscriber();
  const copies: unknown[] = [];
  const client = {
    duplicate(override?: unknown) {
      copies.push(override);
      return subscriber;
    },
  };
  const said: { level: string; msg: string }[] = [];
  const log = {
    warn: (_fields: unknown, msg: string) => said.push({ level: "warn", msg }),
    debug: (_fields: unknown, msg: string) => said.push({ level: "debug", msg }),
  };
  let lost = 0;
  const notifications = createFillNotifications({
    client: client as unknown as Redis,
    channel: "p:fills",
    onMessage: () => undefined,
    onLost: () => lost++,
    log: log as unknown as Logger,
  });
  const ready = async () => {
    subscriber.emit("ready");
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { subscriber, copies, said, notifications, ready, lost: () => lost };
}

describe("fill notifications", () => {
  it("leave resubscribing to the sidecar: the standalone copy has ioredis's own off", () => {
    expect(setUp().copies).toEqual([{ autoResubscribe: false }]);
  });

  it("subscribe on every connection, and not before", async () => {
    const { subscriber, notifications, ready, lost } = setUp();
    expect(notifications.subscribed).toBe(false);
    await ready();
    expect(notifications.subscribed).toBe(true);
    subscriber.emit("close");
    expect([notifications.subscribed, lost()]).toEqual([false, 1]);
    await ready();
    expect([notifications.subscribed, subscriber.subscribes]).toEqual([true, 2]);
  });

  describe("when SUBSCRIBE fails", () => {
    it("with its connection going, say so at debug and wait for the next connection", async () => {
      const { subscriber, said, notifications, ready } = setUp();
      subscriber.answer = async () => {
        subscriber.status = "close";
        throw new Error("Stream isn't writeable and enableOfflineQueue options is false");
      };
      await ready();
      expect(notifications.subscribed).toBe(false);
      expect(said).toEqual([{ level: "debug", msg: expect.stringMatching(/lost with its connection/) }]);
      expect(subscriber.disconnects).toEqual([]);
    });

    it("refused by Redis, warn that an ACL user needs the channel, and keep the connection", async () => {
      const { subscriber, said, notifications, ready } = setUp();
      subscriber.answer = async () => {
        throw new ReplyError("NOPERM this user has no permissions to access the 'p:fills' channel");
      };
      await ready();
      expect(notifications.subscribed).toBe(false);
      expect(said).toEqual([{ level: "warn", msg: expect.stringMatching(/refused.*&<prefix>:fills/) }]);
      expect(subscriber.disconnects).toEqual([]);
    });

    it("unanswered on a live connection, warn and reconnect to subscribe again", async () => {
      const { subscriber, said, ready } = setUp();
      subscriber.answer = async () => {
        throw new Error("Command timed out");
      };
      await ready();
      expect(said).toEqual([{ level: "warn", msg: expect.stringMatching(/unanswered; reconnecting/) }]);
      expect(subscriber.disconnects).toEqual([true]);
    });
  });

  it("once closed, subscribe no more and say nothing", async () => {
    const { subscriber, said, notifications, ready } = setUp();
    notifications.close();
    await ready();
    expect([subscriber.subscribes, said, notifications.subscribed]).toEqual([0, [], false]);
    expect(subscriber.disconnects).toEqual([false]);
  });
});
