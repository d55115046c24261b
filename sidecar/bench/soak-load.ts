/**
 * The shape of the soak's load, pure: which item each request names and how each client paces itself.
 * The load itself is the fault suite's (sidecar/test/faults/fault-load.ts).
 */

/** Items half the reads go to, so a fault's recovery shows within seconds (a fresh hit on one of them). */
export const HOT_ITEMS = 32;
/** One request in nine is a PUT (odd, so public and PerUser items both get written). */
export const WRITE_EVERY = 9;

/**
 * Request `i`'s item: requests take turns between the routes (even: public, odd: PerUser, by the load),
 * and each route's requests take turns between a hot item and the next of `items` cold ones.
 */
export function soakItemOf(i: number, items: number): string {
  const turn = Math.floor(i / 2);
  const half = Math.floor(turn / 2);
  return turn % 2 === 0 ? `h${half % HOT_ITEMS}` : `c${half % items}`;
}

/** Milliseconds between two requests of one client, so `clients` make at most `rate` requests/s. */
export function paceMs(clients: number, rate: number): number {
  return Math.ceil((clients * 1000) / rate);
}
