import { once } from "node:events";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { fairTimeout } from "./fair-timeout.js";

/** Blocks the event loop, as a CPU-starved or busy process does. */
function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

async function socketPair(): Promise<{ client: Socket; server: Socket; close(): void }> {
  const listener = createServer();
  listener.listen(0, "127.0.0.1");
  await once(listener, "listening");
  const accepted = once(listener, "connection") as Promise<[Socket]>;
  const client = connect((listener.address() as AddressInfo).port, "127.0.0.1");
  await once(client, "connect");
  const [server] = await accepted;
  return {
    client,
    server,
    close() {
      client.destroy();
      server.destroy();
      listener.close();
    },
  };
}

describe("fairTimeout", () => {
  it("fires after its delay when nothing clears it", async () => {
    const started = performance.now();
    await new Promise<void>((resolve) => fairTimeout(20, resolve));
    expect(performance.now() - started).toBeGreaterThanOrEqual(19);
  });

  it("does not fire once cleared", async () => {
    let fired = false;
    fairTimeout(5, () => {
      fired = true;
    }).clear();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(fired).toBe(false);
  });

  describe("when the loop was blocked past the delay while the answer arrived", () => {
    it("lets the waiting answer clear it first", async () => {
      const pair = await socketPair();
      try {
        const events: string[] = [];
        const timeout = fairTimeout(10, () => events.push("timeout"));
        const answered = once(pair.server, "data").then(() => {
          events.push("answer");
          timeout.clear();
        });
        pair.client.write("reply");
        busyFor(50); // the timer expires and the reply is readable before the loop turns again
        await answered;
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(events).toEqual(["answer"]);
      } finally {
        pair.close();
      }
    });
  });
});
