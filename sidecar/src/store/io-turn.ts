/**
 * Resolves after the event loop has polled for I/O once more (two `setImmediate` hops: the first runs
 * in this turn's check phase, the second in the next turn's, after that turn's poll). Whatever was
 * readable on any socket when this was called has then been handled: level-triggered polling reports
 * a socket with unread data on every poll.
 *
 * The tiered store awaits it before serving an L1 copy when Redis pushes invalidations (ADR 0018): a
 * push already in the socket when a request is handled may otherwise be handled after it (a process
 * descheduled for a few milliseconds wakes up with both sockets readable, in no guaranteed order).
 *
 * Callers share one pair of hops until its first hop runs (ADR 0027: under load, every L1 hit of a
 * poll phase awaits this). Sharing keeps the guarantee: the second hop is scheduled only when the first
 * runs, after every caller that joined, so a poll starts after each of them before it resolves.
 */
let pending: Promise<void> | undefined;

export function nextIoTurn(): Promise<void> {
  if (pending !== undefined) return pending;
  const turn = new Promise<void>((resolve) =>
    setImmediate(() => {
      pending = undefined;
      setImmediate(resolve);
    }),
  );
  pending = turn;
  return turn;
}
