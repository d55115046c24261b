import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer as createHttpServer, type IncomingMessage } from "node:http";
import {
  type AddressInfo,
  connect,
  createServer as createTcpServer,
  type Server,
  type Socket,
} from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import type { Sidecar } from "../src/index.js";
import { captureLogs, eventually, send, startTestSidecar } from "./support/harness.js";
import { defaultHandler, startUpstream, type TestUpstream } from "./support/upstream-app.js";

// HTTP/1.1 Upgrade through the sidecar: a WebSocket (or any upgraded protocol) is tunnelled to the
// upstream byte for byte, whatever the policy says; the upstream's refusals reach the client as sent;
// an unreachable upstream gets the sidecar's 502/504; a tunnel's close propagates both ways; and an
// open tunnel never holds a shutdown past its drain deadline.

/** A refusal written raw by the upstream, so byte-for-byte relaying is visible (case, order, body). */
const REFUSAL =
  "HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\nX-Odd-Case: Kept\r\nContent-Length: 22\r\nConnection: close\r\n\r\nsend Sec-WebSocket-Key";

/**
 * A real node:http app with a real WebSocket echo endpoint (ws), plus raw protocols: `x-echo` echoes
 * every byte, `x-hold` accepts and then never writes nor closes.
 */
interface WsApp {
  readonly app: TestUpstream;
  readonly upgrades: IncomingMessage[];
  readonly sockets: WebSocket[];
  /** Bytes that reached the upstream on an upgrade connection after its non-101 answer. */
  afterRefusal: string;
  closed: number;
  close(): Promise<void>;
}

async function startWsApp(): Promise<WsApp> {
  const app = await startUpstream();
  const wss = new WebSocketServer({ noServer: true });
  const raw: Socket[] = [];
  const state: WsApp = {
    app,
    upgrades: [],
    sockets: [],
    afterRefusal: "",
    closed: 0,
    async close() {
      for (const ws of state.sockets) ws.terminate();
      for (const socket of raw) socket.destroy();
      wss.close();
      await app.close();
    },
  };
  app.server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    state.upgrades.push(req);
    raw.push(socket);
    if (req.url === "/refuse") {
      socket.end(REFUSAL);
    } else if (req.url === "/ignore-upgrade") {
      // An app that does not speak the protocol: a plain answer, and the connection stays open.
      socket.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nplain");
      socket.on("data", (chunk: Buffer) => {
        state.afterRefusal += chunk.toString("latin1");
      });
    } else if (req.headers.upgrade === "x-echo") {
      // Any protocol: after the 101, echo every byte (those that came with the head first).
      socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x-echo\r\nConnection: Upgrade\r\n\r\n");
      socket.write(head);
      socket.pipe(socket);
    } else if (req.headers.upgrade === "x-hold") {
      socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x-hold\r\nConnection: Upgrade\r\n\r\n");
      socket.resume();
    } else {
      wss.handleUpgrade(req, socket, head, (ws) => {
        state.sockets.push(ws);
        ws.on("close", () => state.closed++);
        ws.on("message", (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
      });
    }
  });
  return state;
}

async function openSocket(base: string, path = "/chat"): Promise<WebSocket> {
  const ws = new WebSocket(`${base.replace(/^http/, "ws")}${path}`);
  await once(ws, "open");
  return ws;
}

async function echo(ws: WebSocket, data: string | Buffer): Promise<{ data: Buffer; isBinary: boolean }> {
  const answer = once(ws, "message") as Promise<[Buffer, boolean]>;
  ws.send(data);
  const [received, isBinary] = await answer;
  return { data: received, isBinary };
}

/** A raw TCP client to the sidecar that keeps everything it receives. */
function rawClient(base: string) {
  const { hostname, port } = new URL(base);
  const socket = connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  const closed = once(socket, "close");
  return { socket, closed, text: () => Buffer.concat(chunks).toString("latin1") };
}

async function rawExchange(base: string, request: string): Promise<string> {
  const client = rawClient(base);
  client.socket.write(request);
  await client.closed;
  return client.text();
}

function upgradeRequest(path: string, upgrade = "websocket", method = "GET"): string {
  return `${method} ${path} HTTP/1.1\r\nHost: api.example\r\nConnection: Upgrade\r\nUpgrade: ${upgrade}\r\n\r\n`;
}

/** Sum of a metric's samples whose labels include `labels`, as GET /metrics shows them. */
async function scraped(sidecar: Sidecar, name: string, labels: Record<string, string>): Promise<number> {
  const { body } = await send(sidecar.adminUrl as string, "/metrics");
  let sum = 0;
  for (const line of body.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** Resolves to what `promise` settled with, or to "timed out" after `ms` (a deadline, not a sleep). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | "timed out"> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"timed out">((resolve) => {
    timer = setTimeout(() => resolve("timed out"), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const ROUTES = { routes: [{ name: "things", path: "/things/:id", ttl: "60s" }] };

describe("upgrade requests through the sidecar", () => {
  let up: WsApp;
  let sidecar: Sidecar;

  beforeAll(async () => {
    up = await startWsApp();
    sidecar = await startTestSidecar({ upstream: up.app.url, spec: ROUTES });
  });

  afterAll(async () => {
    await sidecar?.close({ drainMs: 1_000 });
    await up?.close();
  });

  it("tunnels a WebSocket both ways, with a text and a 1 MiB binary message", async () => {
    const ws = await openSocket(sidecar.url, "/chat?room=1");
    const text = await echo(ws, "hello through the sidecar");
    expect(text.isBinary).toBe(false);
    expect(text.data.toString("utf8")).toBe("hello through the sidecar");
    const big = randomBytes(1024 * 1024);
    const binary = await echo(ws, big);
    expect(binary.isBinary).toBe(true);
    expect(binary.data.equals(big)).toBe(true);
    ws.close();
    await eventually(() => up.closed === 1, 10_000, "the upstream socket to close");
  });

  it("forwards the upgrade request with the forwarding headers of any proxied request", async () => {
    const ws = await openSocket(sidecar.url, "/chat?room=2");
    const req = up.upgrades.at(-1) as IncomingMessage;
    expect(req.url).toBe("/chat?room=2");
    expect(req.headers).toMatchObject({
      connection: "upgrade",
      upgrade: "websocket",
      "x-forwarded-for": "127.0.0.1",
      "x-forwarded-proto": "http",
    });
    expect(req.headers["sec-websocket-key"]).toEqual(expect.any(String));
    ws.terminate();
  });

  it("relays the upstream's refusal (426 with a body) byte for byte", async () => {
    expect(await rawExchange(sidecar.url, upgradeRequest("/refuse"))).toBe(REFUSAL);
  });

  describe("after a non-101 answer (issue 12, finding 5)", () => {
    const second = "GET /plain/next HTTP/1.1\r\nHost: api.example\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n";
    const answers = (text: string) => text.split("HTTP/1.1 ").slice(1);

    it.each([
      ["sent after the answer", false],
      ["pipelined right behind the upgrade request", true],
    ])(
      "hands a request %s to the proxy, never to the upstream through a tunnel",
      async (_name, pipelined) => {
        const before = up.afterRefusal;
        const client = rawClient(sidecar.url);
        client.socket.write(upgradeRequest("/ignore-upgrade") + (pipelined ? second : ""));
        await eventually(() => answers(client.text()).length >= 1 && client.text().includes("plain"), 10_000);
        expect(answers(client.text())[0]).toMatch(/^200 OK\r\n/);
        if (!pipelined) client.socket.write(second);
        await eventually(() => answers(client.text()).length === 2, 10_000, "the second answer");
        const next = answers(client.text())[1] as string;
        expect(next).toMatch(/^200 OK\r\n/);
        expect(next.toLowerCase()).toContain("cache-status: apicache; fwd=bypass");
        const seen = up.app.received.filter((r) => r.url === "/plain/next").at(-1);
        expect(seen?.headers["x-forwarded-for"]).not.toBe("6.6.6.6");
        expect(String(seen?.headers["x-forwarded-for"])).toMatch(/127\.0\.0\.1$/);
        expect(up.afterRefusal).toBe(before);
        client.socket.destroy();
      },
    );

    it("closes the connection after an answer that says Connection: close, dropping what was pipelined", async () => {
      const served = up.app.count("/plain/next");
      const client = rawClient(sidecar.url);
      client.socket.write(upgradeRequest("/refuse") + second);
      await client.closed;
      expect(client.text()).toBe(REFUSAL);
      expect(up.app.count("/plain/next")).toBe(served);
    });
  });

  it("tunnels any protocol; on an unsafe method it invalidates like a write once the upstream accepts", async () => {
    expect((await send(sidecar.url, "/things/1")).cacheStatus).toContain("stored");
    const before = await scraped(sidecar, "apicache_invalidations_total", {});

    const client = rawClient(sidecar.url);
    // Bytes sent right behind the head belong to the new protocol (node hands them over as `head`).
    client.socket.write(`${upgradeRequest("/things/1", "x-echo", "POST")}early `);
    await eventually(() => client.text().endsWith("early "), 10_000, "the early bytes to come back");
    client.socket.write("late");
    await eventually(() => client.text().endsWith("early late"), 10_000, "the later bytes to come back");
    expect(client.text()).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(up.upgrades.at(-1)?.method).toBe("POST");
    // A plain upstream may simply apply a POST that carries Upgrade: its target URI is dropped.
    expect(await scraped(sidecar, "apicache_invalidations_total", {})).toBe(before + 1);
    expect((await send(sidecar.url, "/things/1")).cacheStatus).toContain("stored");
    client.socket.destroy();
  });

  it("relays the request head's bytes as the client sent them (non-ASCII in a header value)", async () => {
    const client = rawClient(sidecar.url);
    client.socket.write(
      Buffer.concat([
        Buffer.from("GET /raw HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: x-echo\r\nX-Name: caf"),
        Buffer.from("é", "utf8"),
        Buffer.from("\r\n\r\n"),
      ]),
    );
    await eventually(() => client.text().startsWith("HTTP/1.1 101"), 10_000, "the upgrade to be accepted");
    // node hands header bytes over as latin1 on both ends: the same two bytes arrive, not four.
    expect(up.upgrades.at(-1)?.headers["x-name"]).toBe(Buffer.from("café", "utf8").toString("latin1"));
    client.socket.destroy();
  });

  it("declines an h2c offer: the request and the rest of its connection take the cache path", async () => {
    // What Java's HttpClient sends on a new plain-HTTP connection; it then keeps the connection as
    // HTTP/1.1 when the answer is not a 101.
    const h2c =
      "GET /things/2 HTTP/1.1\r\nHost: api.example\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA\r\nContent-Length: 0\r\n\r\n";
    const upgradesBefore = up.upgrades.length;
    const client = rawClient(sidecar.url);
    const answers = () => client.text().split("HTTP/1.1 ").slice(1);
    client.socket.write(h2c);
    await eventually(() => answers()[0]?.endsWith("}") === true, 10_000, "the first answer");
    client.socket.write("GET /things/2 HTTP/1.1\r\nHost: api.example\r\n\r\n");
    await eventually(() => answers()[1]?.endsWith("}") === true, 10_000, "the second answer");
    const [first, second] = answers() as [string, string];
    expect(first).toMatch(/^200 OK\r\n/);
    expect(first).toContain("\r\ncache-status: apicache; fwd=uri-miss; fwd-status=200; stored\r\n");
    expect(second).toMatch(/^200 OK\r\n/);
    expect(second).toMatch(/\r\ncache-status: apicache; hit; ttl=\d+\r\n/);
    expect(up.app.count("/things/2")).toBe(1);
    expect(up.app.received.at(-1)?.headers).not.toHaveProperty("upgrade");
    expect(up.app.received.at(-1)?.headers).not.toHaveProperty("http2-settings");
    expect(up.upgrades.length).toBe(upgradesBefore);
    client.socket.destroy();
  });

  it("closes the upstream side when the client goes away without a close frame", async () => {
    const closedBefore = up.closed;
    const ws = await openSocket(sidecar.url);
    ws.terminate();
    await eventually(() => up.closed === closedBefore + 1, 10_000, "the upstream socket to close");
  });

  it("closes its side when the client closes its own, even if the upstream never does", async () => {
    const client = rawClient(sidecar.url);
    client.socket.write(upgradeRequest("/hold", "x-hold"));
    await eventually(() => client.text().startsWith("HTTP/1.1 101 "), 10_000, "the 101");
    client.socket.end();
    // The client socket closes only once the sidecar has closed its side too: no half-open tunnel.
    expect(
      await within(
        client.closed.then(() => "closed"),
        10_000,
      ),
    ).toBe("closed");
  });

  it("closes the client side when the upstream goes away", async () => {
    const ws = await openSocket(sidecar.url);
    const closing = once(ws, "close");
    (up.sockets.at(-1) as WebSocket).terminate();
    await eventually(() => ws.readyState === WebSocket.CLOSED, 10_000, "the client socket to close");
    const [code] = (await closing) as [number];
    expect(code).toBe(1006); // abnormal closure: the connection itself closed, as the upstream's did
  });

  it("counts each upgrade as a bypass in /metrics", async () => {
    const labels = { route: "none", method: "GET", outcome: "bypass" };
    const before = await scraped(sidecar, "apicache_requests_total", labels);
    const ws = await openSocket(sidecar.url);
    await rawExchange(sidecar.url, upgradeRequest("/refuse"));
    await eventually(
      async () => (await scraped(sidecar, "apicache_requests_total", labels)) === before + 2,
      10_000,
      "both upgrades to be counted",
    );
    ws.terminate();
  });
});

describe("upgrade requests in policy mode Off", () => {
  it("are still tunnelled", async () => {
    const up = await startWsApp();
    const sidecar = await startTestSidecar({ upstream: up.app.url, spec: { mode: "Off", ...ROUTES } });
    try {
      const ws = await openSocket(sidecar.url);
      expect((await echo(ws, "off")).data.toString("utf8")).toBe("off");
      ws.terminate();
    } finally {
      await sidecar.close({ drainMs: 1_000 });
      await up.close();
    }
  });
});

describe("upgrade requests when the upstream cannot take them", () => {
  it("answer 502 when the upstream is down, and the sidecar keeps serving", async () => {
    const port = await freePort();
    const { lines, logger } = captureLogs();
    const sidecar = await startTestSidecar({ upstream: `http://127.0.0.1:${port}`, spec: ROUTES, logger });
    const app = createHttpServer((req, res) => defaultHandler(req, res, ""));
    try {
      const answer = await rawExchange(sidecar.url, upgradeRequest("/chat"));
      const [head, body] = answer.split("\r\n\r\n") as [string, string];
      expect(head).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
      expect(head).toContain("\r\ncache-status: apicache; fwd=bypass; detail=upgrade");
      expect(JSON.parse(body)).toMatchObject({ error: "APICACHE_ERR_UPSTREAM_REFUSED" });
      expect(lines.some((line) => line.code === "APICACHE_ERR_UPSTREAM_REFUSED")).toBe(true);
      expect(await scraped(sidecar, "apicache_upstream_errors_total", { reason: "refused" })).toBe(1);

      // Still serving: a normal request gets the usual 502 while the app is down, a 200 once it is up.
      expect((await send(sidecar.url, "/things/1")).status).toBe(502);
      await new Promise<void>((resolve) => app.listen(port, "127.0.0.1", resolve));
      expect((await send(sidecar.url, "/things/1")).status).toBe(200);
    } finally {
      await sidecar.close({ drainMs: 1_000 });
      app.closeAllConnections();
      await new Promise<void>((resolve) => app.close(() => resolve()));
    }
  });

  it("answer 504 when the upstream does not answer within spec.upstream.timeout, and drop its connection", async () => {
    // Accepts and reads, never answers.
    const accepted: Socket[] = [];
    let dropped = 0;
    const silent: Server = createTcpServer((socket) => {
      accepted.push(socket);
      socket.on("close", () => dropped++);
      socket.resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as AddressInfo;
    const { lines, logger } = captureLogs();
    const sidecar = await startTestSidecar({
      upstream: `http://127.0.0.1:${port}`,
      spec: { upstream: { port: 8080, timeout: "300ms" }, ...ROUTES },
      logger,
    });
    try {
      const answer = await rawExchange(sidecar.url, upgradeRequest("/chat"));
      expect(answer).toMatch(/^HTTP\/1\.1 504 Gateway Timeout\r\n/);
      expect(answer).toContain("\r\ncache-status: apicache; fwd=bypass; detail=upgrade\r\n");
      expect(lines.some((line) => line.code === "APICACHE_ERR_UPSTREAM_TIMEOUT")).toBe(true);
      await eventually(
        () => accepted.length === 1 && dropped === 1,
        10_000,
        "the sidecar to drop the silent upstream's connection",
      );
    } finally {
      await sidecar.close({ drainMs: 1_000 });
      for (const socket of accepted) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe("shutdown with an open tunnel", () => {
  it("keeps the tunnel working during the drain, then cuts it at the deadline and stops", async () => {
    const up = await startWsApp();
    const sidecar = await startTestSidecar({ upstream: up.app.url, spec: ROUTES });
    try {
      const ws = await openSocket(sidecar.url);
      const drainMs = 1_500;
      const started = Date.now();
      const closing = sidecar.close({ drainMs });
      expect((await echo(ws, "still here")).data.toString("utf8")).toBe("still here");
      // Generous bound for a loaded machine; without the cut, close() would never resolve.
      expect(
        await within(
          closing.then(() => "stopped"),
          drainMs + 10_000,
        ),
      ).toBe("stopped");
      expect(Date.now() - started).toBeGreaterThanOrEqual(drainMs - 50);
      await eventually(() => ws.readyState === WebSocket.CLOSED, 10_000, "the client socket to close");
      await eventually(() => up.closed === 1, 10_000, "the upstream socket to close");
    } finally {
      await up.close();
    }
  });
});
