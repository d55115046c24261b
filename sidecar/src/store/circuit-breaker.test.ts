import { describe, expect, it } from "vitest";
import { commandRefused, FlakyStore, manualClock } from "../../test/store-fakes.js";
import { CircuitBreakerStore, type CircuitState } from "./circuit-breaker.js";

const opts = { ttlMs: 60_000, tags: [] };

function setup() {
  const clock = manualClock();
  const backend = new FlakyStore();
  const transitions: CircuitState[] = [];
  const breaker = new CircuitBreakerStore(backend, {
    failureThreshold: 3,
    coolDownMs: 1_000,
    now: clock.now,
    onStateChange: (state) => transitions.push(state),
  });
  const failTimes = async (n: number) => {
    for (let i = 0; i < n; i++) await breaker.get("k").catch(() => undefined);
  };
  return { clock, backend, breaker, transitions, failTimes };
}

describe("circuit breaker", () => {
  describe("while closed", () => {
    it("passes operations through", async () => {
      const { backend, breaker } = setup();
      await breaker.set("k", Buffer.from("v"), opts);
      expect(await breaker.get("k")).toEqual(Buffer.from("v"));
      expect(backend.calls).toBe(2);
      expect(breaker.state).toBe("closed");
      expect(breaker.stats()).toEqual({ circuit: { store: "fake-redis", open: false } });
    });

    it("stays closed when failures are not consecutive", async () => {
      const { backend, breaker, failTimes } = setup();
      backend.down();
      await failTimes(2);
      backend.up();
      await breaker.get("k");
      backend.down();
      await failTimes(2);
      expect(breaker.state).toBe("closed");
    });

    it("does not count errors that prove the backend answered", async () => {
      const { backend, breaker, failTimes } = setup();
      backend.down(commandRefused());
      await failTimes(10);
      expect(breaker.state).toBe("closed");
    });
  });

  describe("after the threshold of consecutive backend failures", () => {
    it("opens and rejects at once with APICACHE_ERR_STORE_CIRCUIT_OPEN without calling the backend", async () => {
      const { backend, breaker, transitions, failTimes } = setup();
      backend.down();
      await failTimes(3);
      expect(breaker.state).toBe("open");
      expect(transitions).toEqual(["open"]);
      const calls = backend.calls;
      await expect(breaker.get("k")).rejects.toMatchObject({ code: "APICACHE_ERR_STORE_CIRCUIT_OPEN" });
      await expect(breaker.deleteTags(["t"])).rejects.toMatchObject({
        code: "APICACHE_ERR_STORE_CIRCUIT_OPEN",
      });
      expect(backend.calls).toBe(calls);
      expect(breaker.health()).toEqual({ ok: false, detail: "circuit open" });
      expect(breaker.stats().circuit?.open).toBe(true);
    });

    it("lets one probe through after the cool-down and closes when it succeeds", async () => {
      const { clock, backend, breaker, transitions, failTimes } = setup();
      backend.down();
      await failTimes(3);
      backend.up();
      clock.advance(999);
      await expect(breaker.get("k")).rejects.toMatchObject({ code: "APICACHE_ERR_STORE_CIRCUIT_OPEN" });
      clock.advance(1);
      expect(breaker.state).toBe("half-open");
      const calls = backend.calls;
      const probe = breaker.get("k");
      await expect(breaker.get("other")).rejects.toMatchObject({ code: "APICACHE_ERR_STORE_CIRCUIT_OPEN" });
      await probe;
      expect(backend.calls).toBe(calls + 1);
      expect(breaker.state).toBe("closed");
      expect(transitions).toEqual(["open", "half-open", "closed"]);
      expect(breaker.health()).toEqual({ ok: true });
    });

    it("re-opens for another cool-down when the probe fails", async () => {
      const { clock, backend, breaker, transitions, failTimes } = setup();
      backend.down();
      await failTimes(3);
      clock.advance(1_000);
      await expect(breaker.get("k")).rejects.toMatchObject({ code: "APICACHE_ERR_STORE_TIMEOUT" });
      expect(breaker.state).toBe("open");
      clock.advance(500);
      const calls = backend.calls;
      await expect(breaker.get("k")).rejects.toMatchObject({ code: "APICACHE_ERR_STORE_CIRCUIT_OPEN" });
      expect(backend.calls).toBe(calls);
      expect(transitions).toEqual(["open", "half-open", "open"]);
    });

    it("needs the full threshold again after closing", async () => {
      const { clock, backend, breaker, failTimes } = setup();
      backend.down();
      await failTimes(3);
      backend.up();
      clock.advance(1_000);
      await breaker.get("k");
      backend.down();
      await failTimes(2);
      expect(breaker.state).toBe("closed");
      await failTimes(1);
      expect(breaker.state).toBe("open");
    });
  });
});

describe("circuit breaker told the backend answers again (probeNow)", () => {
  it("lets the next operation probe without waiting out the cool-down", async () => {
    const { backend, breaker, failTimes, transitions } = setup();
    backend.down();
    await failTimes(3);
    expect(breaker.state).toBe("open");
    backend.up();
    breaker.probeNow();
    await breaker.set("k", Buffer.from("v"), opts);
    expect(transitions).toEqual(["open", "half-open", "closed"]);
  });

  it("does nothing to a closed circuit", async () => {
    const { breaker, transitions } = setup();
    breaker.probeNow();
    expect([breaker.state, transitions]).toEqual(["closed", []]);
  });
});
