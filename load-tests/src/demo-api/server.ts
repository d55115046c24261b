import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { handle, type Reply } from "./handle.js";
import { openDemoDatabase } from "./open-database.js";
import { routeRequest } from "./routes.js";
import { type DatasetSize, SIZES } from "./sizes.js";
import { type CountingDatabase, countStatements } from "./statement-counter.js";

export interface DemoApiOptions {
  readonly host?: string;
  /** 0 (default): any free port. */
  readonly port?: number;
  readonly size?: DatasetSize;
  readonly databaseUrl?: string;
  readonly cacheDir: string;
  readonly logger: Logger;
}

export interface DemoApi {
  readonly url: string;
  readonly db: CountingDatabase;
  readonly source: "snapshot" | "generated" | "existing";
  readonly loadMillis: number;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;

/** Opens (or generates) the dataset, then serves the demo booking API on node:http. */
export async function startDemoApi(options: DemoApiOptions): Promise<DemoApi> {
  const log = options.logger;
  const size = options.size ?? SIZES.default;
  const opened = await openDemoDatabase({
    size,
    cacheDir: options.cacheDir,
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    progress: (message, fields) => log.info({ ...fields }, message),
  });
  const db = countStatements(opened.db);
  const server = createServer((req, res) => {
    serve(db, req, res).catch((error: unknown) => {
      log.error({ err: error, method: req.method, url: req.url }, "request failed");
      if (!res.headersSent)
        send(res, { status: 500, body: { error: { code: "internal", message: String(error) } } }, 0);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  await listen(server, options.host ?? "127.0.0.1", options.port ?? 0);
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    db,
    source: opened.source,
    loadMillis: opened.millis,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await db.close();
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

async function serve(db: CountingDatabase, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  const routed = routeRequest(req.method ?? "GET", req.url ?? "/");
  const body = await readJson(req);
  let reply: Reply;
  if (routed.ok && routed.request.kind === "db-stats") reply = { status: 200, body: db.stats() };
  else if (!routed.ok)
    reply = {
      status: routed.error.status,
      body: { error: { code: routed.error.code, message: routed.error.message } },
    };
  else if (body === INVALID)
    reply = {
      status: 400,
      body: { error: { code: "bad_request", message: "the body is not valid JSON (or over 64 KiB)" } },
    };
  else {
    db.countRequest();
    reply = await handle(db, { request: routed.request, body, authorization: req.headers.authorization });
  }
  send(res, reply, performance.now() - started, req.method === "HEAD");
}

const INVALID = Symbol("invalid body");

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req) {
    length += (chunk as Buffer).length;
    if (length > MAX_BODY_BYTES) return INVALID;
    chunks.push(chunk as Buffer);
  }
  if (length === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return INVALID;
  }
}

function send(res: ServerResponse, reply: Reply, millis: number, headOnly = false): void {
  const payload = Buffer.from(JSON.stringify(reply.body));
  res.writeHead(reply.status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": payload.length,
    // How long the API worked on it (queries included): compare with what the client saw.
    "server-timing": `app;dur=${millis.toFixed(1)}`,
  });
  res.end(headOnly ? undefined : payload);
}
