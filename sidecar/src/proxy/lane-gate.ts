import { fairTimeout } from "../timers/fair-timeout.js";

/**
 * A counting gate with a bounded, first-come-first-served queue: at most `limit` holders at a time;
 * a waiter that is not admitted within its deadline gives up (`acquire` resolves undefined). Pure
 * (timers only), one per upstream lane.
 */
export interface Slot {
  /** Gives the slot back; idempotent. */
  release(): void;
}

interface Waiter {
  admit(slot: Slot): void;
}

export class LaneGate {
  #held = 0;
  readonly #queue: Waiter[] = [];

  constructor(readonly limit: number) {}

  get held(): number {
    return this.#held;
  }

  get waiting(): number {
    return this.#queue.length;
  }

  /** A slot now if one is free, without waiting. */
  tryAcquire(): Slot | undefined {
    if (this.#held >= this.limit) return undefined;
    this.#held++;
    return this.#slot();
  }

  /** A slot, waiting at most `timeoutMs` for one; undefined when the wait timed out. */
  acquire(timeoutMs: number): Promise<Slot | undefined> {
    const now = this.tryAcquire(); // never ahead of a waiter: waiters exist only while all are held
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        admit: (slot) => {
          timer.clear();
          resolve(slot);
        },
      };
      const timer = fairTimeout(timeoutMs, () => {
        const index = this.#queue.indexOf(waiter);
        if (index >= 0) this.#queue.splice(index, 1);
        resolve(undefined);
      });
      this.#queue.push(waiter);
    });
  }

  #slot(): Slot {
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const next = this.#queue.shift();
        if (next !== undefined) next.admit(this.#slot());
        else this.#held--;
      },
    };
  }
}
