import { createConnection, createServer, type Socket } from "node:net";

/**
 * A TCP relay on loopback that hands the target's bytes to its clients `delayMs` late (0 until set),
 * in order, its FIN included: a slow link in the target's direction. Either end may close its sending
 * side alone, as over TCP, so a reply the target sent before a client closed its side still reaches
 * that client, after the close: what a test needs to land a reply on a connection its client has
 * already given up.
 */
export interface DelayRelay {
  readonly host: string;
  readonly port: number;
  /** From now on, the target's bytes reach the clients this much later. */
  setDelay(ms: number): void;
  /** Client connections not yet closed. */
  readonly connections: number;
  close(): Promise<void>;
}

/** Runs actions in the order given, each no earlier than the delay in force when it was given. */
function delayedQueue(delayMs: () => number): (action: () => void) => void {
  const queue: { readonly at: number; readonly action: () => void }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const pump = () => {
    timer = undefined;
    for (let next = queue[0]; next !== undefined && next.at <= Date.now(); next = queue[0]) {
      queue.shift();
      next.action();
    }
    const head = queue[0];
    if (head !== undefined) timer = setTimeout(pump, head.at - Date.now());
  };
  return (action) => {
    queue.push({ at: Date.now() + delayMs(), action });
    if (timer === undefined) pump();
  };
}

export async function startDelayRelay(target: { host: string; port: number }): Promise<DelayRelay> {
  let delayMs = 0;
  const sockets = new Set<Socket>();
  const clients = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = createConnection({ ...target, allowHalfOpen: true });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => socket.destroy());
    }
    clients.add(client);
    client.on("close", () => {
      clients.delete(client);
      upstream.destroy();
    });
    client.on("data", (chunk: Buffer) => upstream.write(chunk));
    client.on("end", () => upstream.end());
    const later = delayedQueue(() => delayMs);
    upstream.on("data", (chunk: Buffer) => later(() => client.write(chunk)));
    upstream.on("end", () => later(() => client.end()));
    upstream.on("close", (hadError) => {
      if (hadError) later(() => client.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("relay: no TCP address");

  return {
    host: "127.0.0.1",
    port: address.port,
    setDelay: (ms) => {
      delayMs = ms;
    },
    get connections() {
      return clients.size;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
