/**
 * Request coalescing: at most one upstream fetch per key at a time. The first request for a key leads
 * (fetches); requests arriving meanwhile join and await the leader's promise — woken by its resolution,
 * never by polling. An invalidation detaches the flights it concerns, so requests that arrive after a
 * write start a fresh fetch instead of joining one that may carry pre-write data.
 */
export interface Flight<T> {
  readonly key: string;
  readonly tags: readonly string[];
  readonly result: Promise<T>;
}

export interface LeadFlight<T> extends Flight<T> {
  /** Wakes every waiter with the result. */
  resolve(result: T): void;
  /** Removes the flight (after its entry is stored, so late arrivals still find it until then). */
  end(): void;
}

export class Coalescer<T> {
  readonly #flights = new Map<string, LeadFlight<T>>();

  /** The flight in progress for a key, if any. */
  current(key: string): Flight<T> | undefined {
    return this.#flights.get(key);
  }

  /** Starts the flight for a key; the caller must not already find one with `current`. */
  lead(key: string, tags: readonly string[]): LeadFlight<T> {
    const flight = this.solo(key, tags);
    this.#flights.set(key, flight);
    return flight;
  }

  /** A flight nobody can join (a request that must fetch for itself). */
  solo(key: string, tags: readonly string[]): LeadFlight<T> {
    let resolve!: (result: T) => void;
    const result = new Promise<T>((done) => {
      resolve = done;
    });
    const flights = this.#flights;
    const flight: LeadFlight<T> = {
      key,
      tags,
      result,
      resolve,
      end() {
        if (flights.get(key) === flight) flights.delete(key);
      },
    };
    return flight;
  }

  /** Detaches flights for these keys or carrying any of these tags. */
  detach(keys: ReadonlySet<string>, tags: ReadonlySet<string>): void {
    for (const [key, flight] of this.#flights) {
      if (keys.has(key) || flight.tags.some((tag) => tags.has(tag))) this.#flights.delete(key);
    }
  }

  get size(): number {
    return this.#flights.size;
  }
}
