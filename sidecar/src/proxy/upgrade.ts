import { type IncomingMessage, type Server, STATUS_CODES } from "node:http";
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { type CacheOutcome, cacheStatus } from "../http-cache/cache-outcome.js";
import { connectionTokens, type Headers, type HeaderValue, joinedValue } from "../http-cache/headers.js";
import type { CompiledPolicy } from "../routing/compile-policy.js";
import { normalizePath, splitTarget } from "../routing/normalize-path.js";
import { NO_ROUTE_LABEL, type UpstreamErrorReason } from "../telemetry/metric-names.js";
import type { ProxyContext } from "./context.js";
import { forwardHeaders, UPSTREAM_CODES } from "./respond.js";
import { upstreamErrorReason } from "./upstream.js";
import { invalidateWrite } from "./write-path.js";

/**
 * HTTP/1.1 Upgrade requests (WebSocket or any other protocol; RFC 9110 §7.8), which node:http hands
 * to the server's `upgrade` event instead of the request handler. Each one gets its own TCP connection
 * to the upstream: the request head is rewritten as for any forwarded request (keeping what the
 * upgrade needs), then both directions are piped byte for byte. Whatever the upstream answers (101, or
 * a refusal such as 400/426) reaches the client unchanged; the cache takes no part, in every mode and
 * for every method. The policy's upstream timeout bounds the wait for the upstream's first byte; an
 * established tunnel has no idle timeout (WebSockets are long-lived).
 * https://www.rfc-editor.org/rfc/rfc9110#section-7.8
 *
 * Except h2c. Clients offer it on ordinary requests (Java's HttpClient does on every new plain-HTTP
 * connection; so does `curl --http2`) and keep using the connection as HTTP/1.1 when the server
 * answers normally. Tunnelled, that connection would leave the sidecar for good: no caching, and writes
 * that invalidate nothing. So the offer is declined, as RFC 9110 lets a server do (and RFC 9113 §3.1
 * deprecates h2c upgrades): the request goes back to the server as a plain HTTP/1.1 request, without
 * Upgrade and HTTP2-Settings, on the same connection.
 */

export type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer, server: Server) => void;

export interface UpgradeProxy {
  /** The node:http server's `upgrade` listener. */
  readonly handle: UpgradeListener;
  /** Cuts every tunnel (the drain deadline passed); upgrades arriving afterwards are dropped too. */
  destroyAll(): void;
}

const OUTCOME: CacheOutcome = { kind: "bypass", reason: "upgrade" };
/** RFC 9110 §9.2.1: an upgrade on any other method may change state, and invalidates. */
const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);
/** Once one side has closed, how long the other may take to flush what is still buffered for it. */
const FLUSH_GRACE_MS = 5_000;
/** Reported (debug log) when the client left before the upstream answered: nothing was sent. */
const CLIENT_CLOSED_STATUS = 499;

export function createUpgradeProxy(ctx: ProxyContext): UpgradeProxy {
  const sockets = new Set<Duplex>();
  let destroyed = false;
  const track = (socket: Duplex) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    if (destroyed) socket.destroy();
  };
  return {
    handle(req, socket, head, server) {
      if (tunnelledProtocols(req.headers.upgrade).length === 0) {
        // Only h2c offered: parse the request again, as plain HTTP/1.1 (a documented use of the
        // server's `connection` event), so it and the rest of the connection take the cache path.
        socket.unshift(Buffer.concat([Buffer.from(plainRequestHead(req), "latin1"), head]));
        server.emit("connection", socket);
        return;
      }
      track(socket);
      if (!socket.destroyed) new Tunnel(ctx, req, socket, track).open(head);
    },
    destroyAll() {
      destroyed = true;
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** One upgraded connection: client socket, upstream socket, and the wait for the upstream's answer. */
class Tunnel {
  private readonly policy: CompiledPolicy;
  private readonly started = performance.now();
  private readonly upstream: Socket;
  private readonly timer: NodeJS.Timeout;
  /** The upstream's first byte arrived, or the attempt ended (502/504, client gone): reported once. */
  private settled = false;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly req: IncomingMessage,
    private readonly client: Duplex,
    track: (socket: Duplex) => void,
  ) {
    this.policy = ctx.policy();
    const { hostname, port } = new URL(ctx.upstream.origin);
    this.upstream = connect({ host: hostname.replace(/^\[|\]$/g, ""), port: Number(port) || 80 });
    this.upstream.setNoDelay(true);
    track(this.upstream);
    this.timer = setTimeout(() => this.fail("timeout"), this.policy.upstreamTimeoutMs);
  }

  open(head: Buffer): void {
    const { client, upstream, req } = this;
    client.on("error", (error) => this.onClientError(error));
    client.once("close", () => this.onClientClose());
    // The client closed its side (FIN): close ours too, as the upstream socket does by default. An
    // upgraded protocol has no use for a half-open tunnel, and an idle upstream would hold it forever.
    client.once("end", () => closeAfterFlush(client));
    upstream.on("error", (error) => this.onUpstreamError(error));
    upstream.once("close", () => this.onUpstreamClose());
    upstream.once("data", (chunk: Buffer) => this.onAnswer(chunk));
    // Written (and piped) before the connection is up: the socket buffers until it connects.
    const headers = upgradeHeaders(forwardHeaders(req), req.headers, this.ctx.upstream.host);
    // Node decodes header values as latin1: encode them back the same way, byte for byte.
    upstream.write(Buffer.from(requestHead(req.method ?? "GET", req.url ?? "/", headers), "latin1"));
    if (head.length > 0) upstream.write(head);
    client.pipe(upstream);
  }

  /**
   * The upstream's first bytes (its status line): from here on, both directions are piped. An upgrade
   * on an unsafe method (a POST that a plain upstream may simply apply) that the upstream accepted
   * (101, 2xx, 3xx) invalidates like any write before the answer reaches the client.
   */
  private onAnswer(chunk: Buffer): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    const status = responseStatus(chunk) ?? 0;
    this.ctx.observer.upstream(this.policy.label, NO_ROUTE_LABEL, this.seconds());
    this.report(status);
    const relay = () => {
      if (this.client.destroyed) return;
      this.client.write(chunk);
      this.upstream.pipe(this.client);
    };
    const method = this.req.method ?? "GET";
    if (SAFE_METHODS.has(method) || status < 100 || status >= 400) {
      relay();
      return;
    }
    this.upstream.pause(); // no data event is lost while the invalidation runs
    const path = normalizePath(splitTarget(this.req.url ?? "/").path);
    void invalidateWrite(this.ctx, { policy: this.policy, method, path, related: [] }).finally(relay);
  }

  /** The upstream could not be reached or did not answer: 502 (504 on timeout), then close. */
  private fail(reason: UpstreamErrorReason, error?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.client.unpipe(this.upstream);
    this.upstream.destroy();
    this.ctx.observer.upstream(this.policy.label, NO_ROUTE_LABEL, this.seconds(), reason);
    this.ctx.log.warn(
      { err: error, code: UPSTREAM_CODES[reason], path: this.req.url, upgrade: this.req.headers.upgrade },
      "opening an upgraded connection (WebSocket or other Upgrade) to the upstream failed",
    );
    const status = reason === "timeout" ? 504 : 502;
    if (this.client.writable) this.client.write(errorResponse(status, reason));
    closeAfterFlush(this.client);
    this.report(status);
  }

  private onClientError(error: Error): void {
    this.ctx.log.debug({ err: error, path: this.req.url }, "upgraded client connection failed");
    this.client.destroy();
    this.upstream.destroy();
  }

  private onUpstreamError(error: Error): void {
    if (!this.settled) {
      this.fail(upstreamErrorReason(error), error);
      return;
    }
    this.ctx.log.debug({ err: error, path: this.req.url }, "upgraded upstream connection failed");
    this.upstream.destroy();
    this.client.destroy();
  }

  private onClientClose(): void {
    if (this.settled) {
      closeAfterFlush(this.upstream);
      return;
    }
    // The client left before the upstream answered: nothing to relay.
    this.settled = true;
    clearTimeout(this.timer);
    this.upstream.destroy();
    this.report(CLIENT_CLOSED_STATUS);
  }

  private onUpstreamClose(): void {
    // Closed without sending a byte: a reset. (After an error, fail() has already run: nothing to do.)
    if (this.settled) closeAfterFlush(this.client);
    else this.fail("reset");
  }

  private seconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  private report(status: number): void {
    this.ctx.observer.request({
      policy: this.policy.label,
      route: NO_ROUTE_LABEL,
      method: this.req.method ?? "GET",
      outcome: OUTCOME,
      seconds: this.seconds(),
      status,
      path: this.req.url ?? "/",
    });
  }
}

/**
 * Ends a socket whose peer side is gone, once what is buffered for it has been flushed (bounded, so a
 * peer that stopped reading cannot keep it open).
 */
function closeAfterFlush(socket: Duplex): void {
  if (socket.destroyed) return;
  const grace = setTimeout(() => socket.destroy(), FLUSH_GRACE_MS);
  grace.unref();
  socket.end(() => {
    clearTimeout(grace);
    socket.destroy();
  });
}

/**
 * The request fields for the upstream: those a normal forward sends (`forwarded`: end-to-end fields
 * plus X-Forwarded-*), plus the hop-by-hop fields an upgrade needs: `Upgrade` (h2c left out, see
 * above) and `Connection: upgrade`, which are the point, and `Transfer-Encoding` (the body's bytes are
 * relayed raw, so its framing must reach the upstream as sent). A request without Host gets the
 * upstream's.
 */
export function upgradeHeaders(
  forwarded: Readonly<Record<string, string | string[]>>,
  source: Headers,
  defaultHost: string,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = { ...forwarded };
  out.upgrade = tunnelledProtocols(source.upgrade).join(", ");
  out.connection = "upgrade";
  const framing = source["transfer-encoding"];
  if (framing !== undefined) out["transfer-encoding"] = typeof framing === "string" ? framing : [...framing];
  if (out.host === undefined) out.host = defaultHost;
  return out;
}

/** The protocols of an Upgrade field the sidecar tunnels: all offered but h2c. */
export function tunnelledProtocols(upgrade: HeaderValue): string[] {
  const offered = joinedValue(upgrade) ?? "";
  return offered
    .split(",")
    .map((protocol) => protocol.trim())
    .filter((protocol) => protocol !== "" && protocol.toLowerCase() !== "h2c");
}

const H2C_FIELDS: ReadonlySet<string> = new Set(["upgrade", "http2-settings"]);

/**
 * The request head as received (field order, case and values kept), minus the h2c offer: no Upgrade,
 * no HTTP2-Settings, and Connection without those two tokens (left out when nothing else remains).
 */
export function plainRequestHead(
  req: Pick<IncomingMessage, "method" | "url" | "httpVersion" | "rawHeaders">,
): string {
  let head = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    let value = raw[i + 1] as string;
    const lower = name.toLowerCase();
    if (H2C_FIELDS.has(lower)) continue;
    if (lower === "connection") {
      value = [...connectionTokens(value)].filter((token) => !H2C_FIELDS.has(token)).join(", ");
      if (value === "") continue;
    }
    head += `${name}: ${value}\r\n`;
  }
  return `${head}\r\n`;
}

/** An HTTP/1.1 request head: request line, one line per field value, blank line. */
export function requestHead(
  method: string,
  target: string,
  headers: Readonly<Record<string, string | readonly string[]>>,
): string {
  let head = `${method} ${target} HTTP/1.1\r\n`;
  for (const name in headers) {
    const value = headers[name] as string | readonly string[];
    for (const item of typeof value === "string" ? [value] : value) head += `${name}: ${item}\r\n`;
  }
  return `${head}\r\n`;
}

/** The status code of a response's first bytes (`HTTP/1.1 101 …`), if they hold a status line. */
export function responseStatus(chunk: Buffer): number | undefined {
  const match = /^HTTP\/1\.[01] ([1-5]\d\d)[ \r]/.exec(chunk.subarray(0, 13).toString("latin1"));
  return match ? Number(match[1]) : undefined;
}

/** The sidecar's own answer when the upstream could not take the upgrade: a complete, closing response. */
export function errorResponse(status: 502 | 504, reason: UpstreamErrorReason): string {
  const body = JSON.stringify({
    error: UPSTREAM_CODES[reason],
    message: `the upstream application failed (${reason}) while opening an upgraded connection; check that it is running and listening on the --upstream port`,
  });
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
    "content-type: application/json",
    `content-length: ${Buffer.byteLength(body)}`,
    `cache-status: ${cacheStatus(OUTCOME)}`,
    "connection: close",
    "",
    body,
  ].join("\r\n");
}
