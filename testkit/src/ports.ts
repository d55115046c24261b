import { createServer } from "node:net";

/**
 * Ports are picked below Linux's ephemeral range (ip_local_port_range, 32768–60999 by default), from
 * 20000–29999: a port the OS handed out (listen on 0) was seen taken again between its close and the
 * test's own bind, by an outgoing connection's source port or another listener on port 0 (a sidecar
 * in the faults tier died of EADDRINUSE). Below the range, only a bind to that very port can take it.
 */
const FIRST = 20_000;
const COUNT = 10_000;
/** Handed out by this process: never twice, even before the first taker binds it. */
const handedOut = new Set<number>();

/** A TCP port that was free on 127.0.0.1 a moment ago, outside the ephemeral range. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = FIRST + Math.floor(Math.random() * COUNT);
    if (handedOut.has(port) || !(await isPortFree(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port in ${FIRST}–${FIRST + COUNT - 1} on 127.0.0.1 after 200 tries`);
}

/** Whether a port can be bound on 127.0.0.1 right now. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
