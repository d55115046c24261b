import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from "node:http";
import type { Socket } from "node:net";
import type { Logger } from "pino";
import { ERROR_CODES } from "../errors.js";
import type { UpgradeListener } from "./upgrade.js";
import { cutSlowClients } from "./write-timeout.js";

/**
 * The proxy's node:http server, hardened: bounded header size (431), header and request deadlines
 * against slowloris (408), and malformed requests answered 400 — never a crash. With `onUpgrade`, requests
 * carrying `Connection: upgrade` (WebSocket…) go to it instead of `handler` (see upgrade.ts).
 */
export interface ServerLimits {
  /** Largest request head in bytes (node's maxHeaderSize; default 16 KiB). */
  readonly maxHeaderBytes?: number;
  /** Time allowed to receive the whole request head (default 10 s). */
  readonly headersTimeoutMs?: number;
  /** Time allowed to receive the whole request, body included (default 5 min). */
  readonly requestTimeoutMs?: number;
  /** Idle keep-alive connections are closed after this (default 65 s, above common LB idle timeouts). */
  readonly keepAliveTimeoutMs?: number;
  /**
   * A client that reads nothing of a response waiting to be sent for this long is cut off (default
   * 30 s; 0: never): a slow or stalled reader must not hold an upstream connection (write-timeout.ts).
   */
  readonly clientWriteTimeoutMs?: number;
}

export function createProxyServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  limits: ServerLimits,
  log: Logger,
  onUpgrade?: UpgradeListener,
): Server {
  const headersTimeout = limits.headersTimeoutMs ?? 10_000;
  const requestTimeout = Math.max(limits.requestTimeoutMs ?? 300_000, headersTimeout);
  const writeTimeout = limits.clientWriteTimeoutMs ?? 30_000;
  const server = createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes ?? 16 * 1024,
      headersTimeout,
      requestTimeout,
      keepAliveTimeout: limits.keepAliveTimeoutMs ?? 65_000,
      // How often node checks the two deadlines above.
      connectionsCheckingInterval: Math.min(1_000, headersTimeout),
      noDelay: true,
    },
    handler,
  );
  cutSlowClients(server, writeTimeout, log);
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) =>
    answerClientError(error, socket, log),
  );
  if (onUpgrade) server.on("upgrade", (req, socket, head) => onUpgrade(req, socket, head, server));
  return server;
}

function answerClientError(error: NodeJS.ErrnoException, socket: Socket, log: Logger): void {
  const status = clientErrorStatus(error.code);
  if (error.code !== "ECONNRESET") {
    log.debug(
      { err: error, code: ERROR_CODES.BAD_CLIENT_REQUEST, status },
      "rejected a malformed or slow request",
    );
  }
  if (!socket.writable || error.code === "ECONNRESET") {
    socket.destroy();
    return;
  }
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
}

function clientErrorStatus(code: string | undefined): number {
  if (code === "HPE_HEADER_OVERFLOW") return 431;
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") return 408;
  return 400;
}
