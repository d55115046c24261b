import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A real node:http upstream for integration tests: counts requests per method+path, records what it
 * received, and answers with a per-test handler (default: JSON echo of the path and a counter).
 */
export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export interface TestUpstream {
  readonly url: string;
  readonly server: Server;
  readonly received: ReceivedRequest[];
  /** Requests received for a path (without query), any method unless given. */
  count(path: string, method?: string): number;
  handle: Handler;
  /** TCP connections accepted (keep-alive pooling shows as few connections for many requests). */
  connections: number;
  close(): Promise<void>;
}

export const defaultHandler: Handler = (req, res) => {
  const body = JSON.stringify({ path: req.url, at: Date.now(), n: Math.random() });
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
};

export async function startUpstream(handle: Handler = defaultHandler): Promise<TestUpstream> {
  const received: ReceivedRequest[] = [];
  const app: TestUpstream = {
    url: "",
    server: undefined as unknown as Server,
    received,
    handle,
    connections: 0,
    count: (path, method) =>
      received.filter((r) => r.url.split("?")[0] === path && (method === undefined || r.method === method))
        .length,
    close: async () => {
      app.server.closeAllConnections();
      await new Promise<void>((resolve) => app.server.close(() => resolve()));
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      app.handle(req, res, body);
    });
  });
  server.on("connection", () => {
    app.connections++;
  });
  (app as { server: Server }).server = server;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  (app as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return app;
}
