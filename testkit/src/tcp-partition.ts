import { createConnection, createServer, type Socket } from "node:net";

/**
 * A TCP relay on loopback that can partition its clients from the target: while cut, nothing passes
 * either way and nothing is closed — bytes are held, new connections wait for their target, as when
 * a link or a firewall silently drops packets and TCP keeps retransmitting. heal() delivers what was
 * held, in order, and lets everything through again.
 */
export interface PartitionRelay {
  readonly host: string;
  readonly port: number;
  cut(): void;
  heal(): void;
  close(): Promise<void>;
}

interface Direction {
  readonly to: Socket;
  held: Buffer[];
}

export async function startPartitionRelay(target: { host: string; port: number }): Promise<PartitionRelay> {
  let cut = false;
  const sockets = new Set<Socket>();
  const directions = new Set<Direction>();
  const waiting: (() => void)[] = [];

  const relay = (from: Socket, to: Socket) => {
    const direction: Direction = { to, held: [] };
    directions.add(direction);
    from.on("data", (chunk: Buffer) => {
      if (cut || direction.held.length > 0) direction.held.push(chunk);
      else to.write(chunk);
    });
    from.on("close", () => {
      directions.delete(direction);
      to.destroy();
    });
  };

  const server = createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => client.destroy());
    client.pause();
    const connect = () => {
      if (client.destroyed) return;
      const upstream = createConnection(target);
      sockets.add(upstream);
      upstream.on("close", () => sockets.delete(upstream));
      upstream.on("error", () => upstream.destroy());
      relay(client, upstream);
      relay(upstream, client);
      client.resume();
    };
    if (cut) waiting.push(connect);
    else connect();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("relay: no TCP address");

  return {
    host: "127.0.0.1",
    port: address.port,
    cut: () => {
      cut = true;
    },
    heal: () => {
      cut = false;
      for (const direction of directions) {
        for (const chunk of direction.held.splice(0)) direction.to.write(chunk);
      }
      for (const connect of waiting.splice(0)) connect();
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
