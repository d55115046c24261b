import { type IncomingMessage, STATUS_CODES } from "node:http";
import type { UpstreamErrorReason } from "../http-cache/cache-outcome.js";
import { type CacheOutcome, cacheStatus } from "../http-cache/cache-outcome.js";
import { connectionTokens, type Headers, type HeaderValue, joinedValue } from "../http-cache/headers.js";
import type { ParsedHead } from "./http1-framing.js";
import { UPSTREAM_CODES } from "./respond.js";

/** The messages of the upgrade proxy (upgrade.ts): request heads, relayed answers, its own errors. */

export const UPGRADE_OUTCOME: CacheOutcome = { kind: "bypass", reason: "upgrade" };

/** [name, value] pairs of node's rawHeaders. */
export function rawFields(raw: readonly string[]): [string, string][] {
  const fields: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) fields.push([raw[i] as string, raw[i + 1] as string]);
  return fields;
}

/**
 * The relayed head of a non-101 answer: status line and fields as received, minus the hop-by-hop
 * Connection and Keep-Alive, plus `Connection: close` when the sidecar closes after it.
 */
export function relayedHead(raw: Buffer, head: ParsedHead, keepAlive: boolean): string {
  const text = raw.subarray(0, head.length - 4).toString("latin1");
  const lines = text.split("\r\n");
  const kept = lines.filter((line, i) => i === 0 || !/^(connection|keep-alive)\s*:/i.test(line));
  return `${kept.join("\r\n")}\r\n${keepAlive ? "" : "Connection: close\r\n"}\r\n`;
}

/** The client (HTTP/1.0, Connection: close) or the upstream's answer asks to close the connection. */
export function asksToClose(req: IncomingMessage, head: ParsedHead): boolean {
  if (req.httpVersion === "1.0") return true;
  const answer = head.fields.filter(([name]) => name.toLowerCase() === "connection").map(([, v]) => v);
  return (
    connectionTokens(answer.join(",")).has("close") || connectionTokens(req.headers.connection).has("close")
  );
}

export function clientErrorResponse(status: 400): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`;
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
    `cache-status: ${cacheStatus(UPGRADE_OUTCOME)}`,
    "connection: close",
    "",
    body,
  ].join("\r\n");
}
