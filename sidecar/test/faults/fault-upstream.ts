import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * The fault suite's upstream: a small deterministic API whose every answer says, in its body, which
 * resource version it shows, which user it was made for and when it was made, so the load's checker
 * can judge an answer by content alone. It records every answer it gave and every interval in which
 * it was at fault (down, hanging, truncating), so an error a client saw can be attributed: to the
 * upstream when it was at fault then, to the cache otherwise.
 *
 *   GET  /public/items/:id   {kind:"public", id, version, user:null, madeAt, pad}
 *   GET  /me/items/:id       {kind:"me", id, version, user:<x-user>, madeAt, pad}   (PerUser route)
 *   PUT  either path         increments that resource's version (per user for /me) and answers it
 */
export type UpstreamMode = "ok" | "hang" | "truncate";

export interface ItemBody {
  readonly kind: "public" | "me";
  readonly id: string;
  readonly version: number;
  readonly user: string | null;
  readonly madeAt: number;
  readonly pad: string;
}

export interface FaultInterval {
  readonly what: string;
  readonly from: number;
  to: number | undefined;
}

export interface FaultUpstream {
  readonly url: string;
  /** Answers per request id (`x-fault-req`): the status it sent, or "truncated" / "hung". */
  readonly answered: Map<string, number | "truncated" | "hung">;
  /** Intervals (Date.now()) in which the upstream itself was at fault. */
  readonly faults: FaultInterval[];
  setMode(mode: UpstreamMode): void;
  /** Stops listening and resets every open connection (a killed process). */
  kill(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export const PAD = "p".repeat(256);

/** The resource a path names, or undefined (then 404). */
function resource(
  req: IncomingMessage,
): { kind: "public" | "me"; id: string; user: string | null } | undefined {
  const match = /^\/(public|me)\/items\/([A-Za-z0-9-]+)$/.exec((req.url ?? "").split("?")[0] ?? "");
  if (!match) return undefined;
  const kind = match[1] as "public" | "me";
  const user = kind === "me" ? String(req.headers["x-user"] ?? "") : null;
  return { kind, id: match[2] as string, user };
}

export interface FaultUpstreamOptions {
  /** The `pad` field of every body (default PAD, 256 bytes): larger bodies fill an L1 budget sooner. */
  readonly pad?: string;
}

export async function startFaultUpstream(options: FaultUpstreamOptions = {}): Promise<FaultUpstream> {
  const pad = options.pad ?? PAD;
  const versions = new Map<string, number>();
  const answered = new Map<string, number | "truncated" | "hung">();
  const faults: FaultInterval[] = [];
  const sockets = new Set<Socket>();
  let mode: UpstreamMode = "ok";
  let current: FaultInterval | undefined;

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const id = String(req.headers["x-fault-req"] ?? "");
    const target = resource(req);
    if (!target) {
      res.writeHead(404, { "content-length": "0" });
      res.end();
      answered.set(id, 404);
      return;
    }
    if (mode === "hang") {
      answered.set(id, "hung");
      return;
    }
    const versionKey = `${target.kind}|${target.user ?? ""}|${target.id}`;
    if (req.method === "PUT") versions.set(versionKey, (versions.get(versionKey) ?? 0) + 1);
    const body: ItemBody = {
      ...target,
      version: versions.get(versionKey) ?? 0,
      madeAt: Date.now(),
      pad,
    };
    const text = JSON.stringify(body);
    const length = Buffer.byteLength(text);
    if (mode === "truncate") {
      // Promise more than is sent, send part of it, then cut the connection.
      res.writeHead(200, { "content-type": "application/json", "content-length": String(length + 64) });
      res.write(text.slice(0, Math.floor(length / 2)));
      answered.set(id, "truncated");
      setImmediate(() => res.socket?.destroy());
      return;
    }
    res.writeHead(200, { "content-type": "application/json", "content-length": String(length) });
    res.end(text);
    answered.set(id, 200);
  };

  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => handle(req, res));
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  const startFault = (what: string) => {
    current = { what, from: Date.now(), to: undefined };
    faults.push(current);
  };
  const endFault = () => {
    if (current) current.to = Date.now();
    current = undefined;
  };
  const resetAll = () => {
    for (const socket of sockets) socket.destroy();
  };

  return {
    url: `http://127.0.0.1:${port}`,
    answered,
    faults,
    setMode(next) {
      if (next === mode) return;
      if (mode !== "ok") {
        // Hung requests end with the fault: their connections are reset, as a restarted app's are.
        if (mode === "hang") resetAll();
        endFault();
      }
      mode = next;
      if (next !== "ok") startFault(next);
    },
    async kill() {
      startFault("down");
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      resetAll();
      await closed;
    },
    async restart() {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => {
          server.off("error", reject);
          resolve();
        });
      });
      endFault();
    },
    async close() {
      resetAll();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
