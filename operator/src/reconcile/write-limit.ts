import type { Clock } from "../clock.js";
import type { ClusterWriter } from "./reconciler.js";

/**
 * A token bucket: `qps` tokens a second, at most `burst` saved up. `take()` resolves when a token is
 * available, in call order. Pure timing through the clock passed in.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Waits for a token; callers are served first come, first served. */
  take(): Promise<void> {
    const turn = this.tail.then(() => this.waitForToken());
    this.tail = turn;
    return turn;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.qps) / 1000);
    this.last = now;
  }

  private async waitForToken(): Promise<void> {
    this.refill();
    while (this.tokens < 1) {
      const waitMs = Math.ceil(((1 - this.tokens) * 1000) / this.qps);
      await new Promise<void>((resolve) => this.clock.setTimeout(resolve, waitMs));
      this.refill();
    }
    this.tokens -= 1;
  }
}

/**
 * The controller's writes, all of them through one bucket: however many policies a resync or a
 * restart queues at once, the API server sees at most `qps` writes a second from this controller
 * (bursts up to `burst`). Reads come from caches and are not limited.
 */
export function rateLimitedWriter(writer: ClusterWriter, bucket: TokenBucket): ClusterWriter {
  return {
    apply: async (object) => {
      await bucket.take();
      return writer.apply(object);
    },
    create: async (object) => {
      await bucket.take();
      return writer.create(object);
    },
    patchStatus: async (namespace, name, status) => {
      await bucket.take();
      return writer.patchStatus(namespace, name, status);
    },
    event: async (policy, event) => {
      await bucket.take();
      return writer.event(policy, event);
    },
  };
}
