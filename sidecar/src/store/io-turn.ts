/**
 * Resolves after the event loop has polled for I/O once more (two `setImmediate` hops: the first runs
 * in this turn's check phase, the second in the next turn's, after that turn's poll). Whatever was
 * readable on any socket when this was called has then been handled: level-triggered polling reports
 * a socket with unread data on every poll.
 *
 * The tiered store awaits it before serving an L1 copy when Redis pushes invalidations (ADR 0018): a
 * push already in the socket when a request is handled may otherwise be handled after it (a process
 * descheduled for a few milliseconds wakes up with both sockets readable, in no guaranteed order).
 */
export function nextIoTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}
