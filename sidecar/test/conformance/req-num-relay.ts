import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The cache-tests origin tells a test's requests apart by the client's `Req-Num` and `Test-ID`
 * request headers. The sidecar builds fills from the key, so those headers never reach the origin
 * (issue 12: a policy will be able to declare them forward-only; until then this relay stands in,
 * in the harness only). It sits on both sides of the cache under test:
 *
 *   client → front ─→ cache → back ─→ origin
 *
 * The front notes, per test URL, the bookkeeping headers of the request it passes on; the back puts
 * them on the origin request for that URL when the cache left them out. A test's requests are sent
 * one after another, so the latest noted values belong to the request the cache is filling. Nothing
 * else is added: every header that shapes a response still reaches the origin only if the cache sends it.
 */
const BOOKKEEPING = ["req-num", "test-id"] as const;

export interface ReqNumRelay {
  /** Where the client sends requests (forwards to the cache). */
  readonly front: string;
  /** Where the cache sends requests (forwards to the origin). */
  readonly back: string;
  close(): Promise<void>;
}

export async function startReqNumRelay(options: { cache?: string; origin: string }): Promise<
  ReqNumRelay & {
    /** Points the front at the cache once its address is known. */
    setCache(url: string): void;
  }
> {
  const noted = new Map<string, Record<string, string>>();
  let cache = options.cache;
  const front = await listen((req, res) => {
    const seen: Record<string, string> = {};
    for (const name of BOOKKEEPING) {
      const value = req.headers[name];
      if (typeof value === "string") seen[name] = value;
    }
    if (Object.keys(seen).length > 0) noted.set(testPath(req.url), seen);
    if (cache === undefined) {
      res.writeHead(503).end("relay: no cache yet\n");
      return;
    }
    forward(cache, req, res, {});
  });
  const back = await listen((req, res) => {
    const missing = req.headers["req-num"] === undefined ? (noted.get(testPath(req.url)) ?? {}) : {};
    forward(options.origin, req, res, missing);
  });
  return {
    front: url(front),
    back: url(back),
    setCache(next: string) {
      cache = next;
    },
    async close() {
      for (const server of [front, back]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}

/** `/test/<uuid>` of a target (the suite's test URLs; query and file name do not matter). */
function testPath(target: string | undefined): string {
  return (target ?? "/").split("?")[0]?.split("/").slice(0, 3).join("/") ?? "/";
}

function forward(
  base: string,
  req: IncomingMessage,
  res: ServerResponse,
  extra: Record<string, string>,
): void {
  const target = new URL(req.url ?? "/", base);
  let answered: IncomingMessage | undefined;
  const upstream = request(
    target,
    { method: req.method, headers: { ...req.headers, ...extra, host: target.host } },
    (answer) => {
      answered = answer;
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
      answer.pipe(res);
    },
  );
  upstream.on("error", () => {
    // An origin that sends more than its Content-Length errors once the answer is complete: the
    // pipe still ends the relayed answer.
    if (answered?.complete) return;
    if (res.headersSent) res.destroy();
    else res.writeHead(502).end("relay: upstream failed\n");
  });
  req.pipe(upstream);
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

function url(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
