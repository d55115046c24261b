import type { IncomingMessage, Server } from "node:http";
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { isSafeMethod } from "@apicache/crds";
import type { UpstreamErrorReason } from "../http-cache/cache-outcome.js";
import type { CompiledPolicy } from "../routing/compile-policy.js";
import { normalizePath, splitTarget } from "../routing/normalize-path.js";
import { NO_ROUTE } from "../routing/request-route.js";
import type { ProxyContext } from "./context.js";
import { HOLD_LIMIT_BYTES } from "./held-body.js";
import { BodyTracker, type ParsedHead, parseHead, requestFraming, responseFraming } from "./http1-framing.js";
import { forwardHeaders, UPSTREAM_CODES } from "./respond.js";
import {
  asksToClose,
  clientErrorResponse,
  errorResponse,
  plainRequestHead,
  rawFields,
  relayedHead,
  requestHead,
  tunnelledProtocols,
  UPGRADE_OUTCOME,
  upgradeHeaders,
} from "./upgrade-messages.js";
import { upstreamErrorReason } from "./upstream.js";
import { invalidateWrite } from "./write-path.js";

export {
  errorResponse,
  plainRequestHead,
  requestHead,
  responseStatus,
  tunnelledProtocols,
  upgradeHeaders,
} from "./upgrade-messages.js";
/**
 * HTTP/1.1 Upgrade requests (WebSocket or any other protocol; RFC 9110 §7.8), which node:http hands
 * to the server's `upgrade` event instead of the request handler. Each one gets its own TCP connection
 * to the upstream: the request head is rewritten as for any forwarded request (keeping what the
 * upgrade needs). A 101 makes it a tunnel, piped byte for byte; any other answer is relayed and the
 * connection goes back to HTTP (or is closed), never a tunnel (see Tunnel). The cache takes no part,
 * in every mode and for every method. The policy's upstream timeout bounds the wait for the upstream's
 * first byte; an established tunnel has no idle timeout (WebSockets are long-lived).
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

const OUTCOME = UPGRADE_OUTCOME;
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
      if (!socket.destroyed) new Tunnel(ctx, req, socket, { track, server }).open(head);
    },
    destroyAll() {
      destroyed = true;
      for (const socket of sockets) socket.destroy();
    },
  };
}

/**
 * One upgrade attempt: client socket, upstream socket, and the wait for the upstream's answer.
 *
 * Until the upstream answers 101, only the upgrade request itself reaches it: its head, then exactly
 * its body (Content-Length or chunked, followed by http1-framing.ts). Anything the client sends after
 * that is held back. A 101 turns the connection into a tunnel (the held bytes follow, then both
 * directions are piped). Any other final answer is relayed up to its end and the connection never
 * becomes a tunnel: it goes back to the proxy's HTTP server, held bytes first, so the next request on
 * it takes the cache path (invalidation, the sidecar's own forwarding headers) like any other — or,
 * when the answer asks to close, is delimited by the close, or came before the request body ended,
 * the connection is closed (`Connection: close`).
 */
class Tunnel {
  private readonly policy: CompiledPolicy;
  private readonly started = performance.now();
  private readonly upstream: Socket;
  private readonly timer: NodeJS.Timeout;
  /** The upstream's first byte arrived, or the attempt ended (502/504, client gone): reported once. */
  private settled = false;
  /**
   * "request": forwarding the upgrade request; "tunnel": after a 101; "closing": relaying a final
   * non-101 answer; "http": the connection went back to the HTTP server (this object is done).
   */
  private phase: "request" | "tunnel" | "closing" | "http" = "request";
  private requestBody: BodyTracker = new BodyTracker({ kind: "none" });
  /** Client bytes after the upgrade request, sent only once the upstream switched protocols. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Upstream bytes not yet relayed: the answer's head, until it is complete. */
  private answer: Buffer = Buffer.alloc(0);
  private answerBody: BodyTracker | undefined;
  /** The head of the final answer, as received. */
  private lastHead: Buffer = Buffer.alloc(0);
  private readonly onClientData = (chunk: Buffer) => this.fromClient(chunk);
  private readonly onUpstreamData = (chunk: Buffer) => this.fromUpstream(chunk);

  constructor(
    private readonly ctx: ProxyContext,
    private readonly req: IncomingMessage,
    private readonly client: Duplex,
    private readonly edge: { readonly track: (socket: Duplex) => void; readonly server: Server },
  ) {
    this.policy = ctx.policy();
    const { hostname, port } = new URL(ctx.upstream.origin);
    this.upstream = connect({ host: hostname.replace(/^\[|\]$/g, ""), port: Number(port) || 80 });
    this.upstream.setNoDelay(true);
    edge.track(this.upstream);
    this.timer = setTimeout(() => this.fail("timeout"), this.policy.upstreamTimeoutMs);
  }

  private readonly onClientErrorEvent = (error: Error) => this.onClientError(error);
  private readonly onClientCloseEvent = () => this.onClientClose();
  // The client closed its side (FIN): close ours too, as the upstream socket does by default. An
  // upgraded protocol has no use for a half-open tunnel, and an idle upstream would hold it forever.
  private readonly onClientEnd = () => closeAfterFlush(this.client);
  /** Whether the connection goes back to the HTTP server after a non-101 answer. */
  private keepAlive = false;

  open(head: Buffer): void {
    const { client, upstream, req } = this;
    client.on("error", this.onClientErrorEvent);
    client.once("close", this.onClientCloseEvent);
    client.once("end", this.onClientEnd);
    upstream.on("error", (error) => this.onUpstreamError(error));
    upstream.once("close", () => this.onUpstreamClose());
    upstream.on("data", this.onUpstreamData);
    const framing = requestFraming(rawFields(req.rawHeaders));
    if (framing === "invalid") {
      this.refuseRequest();
      return;
    }
    this.requestBody = new BodyTracker(framing);
    // Written before the connection is up: the socket buffers until it connects.
    const headers = upgradeHeaders(forwardHeaders(req), req.headers, this.ctx.upstream.host);
    // Node decodes header values as latin1: encode them back the same way, byte for byte.
    upstream.write(Buffer.from(requestHead(req.method ?? "GET", req.url ?? "/", headers), "latin1"));
    if (head.length > 0) this.fromClient(head);
    client.on("data", this.onClientData);
  }

  /** Client bytes: the request body goes on; what follows it waits for the upstream's 101. */
  private fromClient(chunk: Buffer): void {
    if (this.phase === "tunnel") {
      this.upstream.write(chunk);
      return;
    }
    const taken = this.requestBody.push(chunk);
    if (taken === "invalid") {
      this.refuseRequest();
      return;
    }
    if (taken > 0) this.upstream.write(taken === chunk.length ? chunk : chunk.subarray(0, taken));
    if (taken === chunk.length || (this.phase === "closing" && !this.keepAlive)) return;
    this.held.push(chunk.subarray(taken));
    this.heldBytes += chunk.length - taken;
    if (this.heldBytes > HOLD_LIMIT_BYTES) this.client.pause();
  }

  /** Upstream bytes: the answer's head (interim 1xx heads relayed as they come), then its body. */
  private fromUpstream(chunk: Buffer): void {
    if (!this.settled) {
      this.settled = true;
      clearTimeout(this.timer);
      this.ctx.observer.upstream(this.policy.label, NO_ROUTE, this.seconds());
    }
    if (this.answerBody !== undefined) {
      this.relayBody(chunk);
      return;
    }
    this.answer = this.answer.length === 0 ? chunk : Buffer.concat([this.answer, chunk]);
    const head = parseHead(this.answer);
    if (head === "incomplete") return;
    if (head === "too-large" || head.status === undefined) {
      this.badAnswer();
      return;
    }
    const rest = this.answer.subarray(head.length);
    if (head.status >= 100 && head.status < 200 && head.status !== 101) {
      this.client.write(this.answer.subarray(0, head.length)); // 100 Continue, 103 Early Hints…
      this.answer = Buffer.alloc(0);
      if (rest.length > 0) this.fromUpstream(rest);
      return;
    }
    this.lastHead = this.answer.subarray(0, head.length);
    this.answer = Buffer.alloc(0);
    this.report(head.status);
    this.upstream.off("data", this.onUpstreamData);
    this.upstream.pause(); // no data event is lost while the invalidation runs
    const method = this.req.method ?? "GET";
    const relay = () => (head.status === 101 ? this.switchProtocols(rest) : this.relayFinal(head, rest));
    // RFC 9110 §9.2.1: an upgrade on an unsafe method may change state, and invalidates.
    if (isSafeMethod(method) || head.status >= 400) {
      relay();
      return;
    }
    const path = normalizePath(splitTarget(this.req.url ?? "/").path);
    void invalidateWrite(this.ctx, { policy: this.policy, method, path, related: [] }).finally(relay);
  }

  /** 101: the head as received, then a byte-for-byte tunnel both ways. */
  private switchProtocols(rest: Buffer): void {
    if (this.client.destroyed) return;
    this.phase = "tunnel";
    this.client.write(this.lastHead);
    if (rest.length > 0) this.client.write(rest);
    for (const chunk of this.held) this.upstream.write(chunk);
    this.held = [];
    this.client.off("data", this.onClientData);
    this.client.pipe(this.upstream);
    this.upstream.pipe(this.client);
    this.upstream.resume();
    this.client.resume();
  }

  /** Any other final answer: relayed to its end, then the connection goes back to HTTP (or closes). */
  private relayFinal(head: ParsedHead, rest: Buffer): void {
    if (this.client.destroyed) return;
    this.phase = "closing";
    const framing = responseFraming(this.req.method ?? "GET", head.status ?? 0, head.fields);
    this.keepAlive = framing.kind !== "close" && this.requestBody.done && !asksToClose(this.req, head);
    if (!this.keepAlive) this.held = [];
    this.client.write(Buffer.from(relayedHead(this.lastHead, head, this.keepAlive), "latin1"));
    this.answerBody = new BodyTracker(framing);
    this.upstream.on("data", this.onUpstreamData);
    this.relayBody(rest);
    this.upstream.resume();
  }

  private relayBody(chunk: Buffer): void {
    const body = this.answerBody as BodyTracker;
    const taken = body.push(chunk);
    if (taken === "invalid") {
      this.client.destroy();
      this.upstream.destroy();
      return;
    }
    if (taken > 0) this.client.write(taken === chunk.length ? chunk : chunk.subarray(0, taken));
    if (body.done) {
      this.upstream.off("data", this.onUpstreamData);
      this.upstream.destroy();
      if (this.keepAlive) this.backToHttp();
      else closeAfterFlush(this.client);
    }
  }

  /**
   * Hands the client connection back to the proxy's HTTP server, as a new connection whose first
   * bytes are what the client sent after the upgrade request (the h2c path above does the same).
   */
  private backToHttp(): void {
    const { client } = this;
    this.phase = "http";
    client.off("data", this.onClientData);
    client.off("error", this.onClientErrorEvent);
    client.off("close", this.onClientCloseEvent);
    client.off("end", this.onClientEnd);
    if (this.held.length > 0) client.unshift(Buffer.concat(this.held));
    this.held = [];
    client.resume();
    this.edge.server.emit("connection", client);
  }

  /** The client's upgrade request has a body framing the sidecar cannot follow: 400, closed. */
  private refuseRequest(): void {
    this.settled = true;
    this.phase = "closing";
    clearTimeout(this.timer);
    this.upstream.destroy();
    if (this.client.writable) this.client.write(clientErrorResponse(400));
    closeAfterFlush(this.client);
    this.report(400);
  }

  /** The upstream's answer is not HTTP/1.x (or its head is over 64 KiB): 502, closed. */
  private badAnswer(): void {
    this.upstream.destroy();
    this.ctx.log.warn(
      { code: UPSTREAM_CODES.reset, path: this.req.url, upgrade: this.req.headers.upgrade },
      "the upstream's answer to an upgrade request is not an HTTP/1.1 response; closing",
    );
    if (this.client.writable) this.client.write(errorResponse(502, "reset"));
    closeAfterFlush(this.client);
    this.report(502);
  }

  /** The upstream could not be reached or did not answer: 502 (504 on timeout), then close. */
  private fail(reason: UpstreamErrorReason, error?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.phase = "closing";
    this.upstream.destroy();
    this.ctx.observer.upstream(this.policy.label, NO_ROUTE, this.seconds(), reason);
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
    if (this.phase === "http") return;
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
    if (this.phase === "http") return;
    // Closed without sending a byte: a reset. (After an error, fail() has already run: nothing to do.)
    if (!this.settled) this.fail("reset");
    else if (this.phase === "request" && this.answer.length > 0) this.badAnswer();
    else closeAfterFlush(this.client);
  }

  private seconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  private reported = false;

  private report(status: number): void {
    if (this.reported) return;
    this.reported = true;
    this.ctx.observer.request({
      policy: this.policy.label,
      route: NO_ROUTE,
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
