/**
 * Where an HTTP/1.1 message ends, from its bytes (RFC 9112 §6): the upgrade proxy relays raw bytes,
 * and must stop exactly at the end of the request it forwards and of the answer it relays, so that
 * nothing after them (a pipelined request, the rest of a refused connection) slips through.
 * Pure: no sockets, fed chunk by chunk.
 */

/** How a message body is delimited. */
export type Framing =
  | { readonly kind: "none" }
  | { readonly kind: "length"; readonly bytes: number }
  | { readonly kind: "chunked" }
  /** Until the connection closes (a response without length or chunked coding). */
  | { readonly kind: "close" };

export interface ParsedHead {
  /** Bytes of the head, the blank line included. */
  readonly length: number;
  /** The status code of a response head (undefined for a request head or a bad status line). */
  readonly status?: number;
  /** Field lines as received: [name, value] with the name as sent. */
  readonly fields: readonly (readonly [string, string])[];
}

const MAX_HEAD_BYTES = 64 * 1024;

/** The head at the start of `buffer`, once complete; "too-large" past 64 KiB without its end. */
export function parseHead(buffer: Buffer): ParsedHead | "incomplete" | "too-large" {
  const end = buffer.indexOf("\r\n\r\n");
  if (end < 0) return buffer.length > MAX_HEAD_BYTES ? "too-large" : "incomplete";
  const lines = buffer.subarray(0, end).toString("latin1").split("\r\n");
  const first = lines[0] ?? "";
  const status = /^HTTP\/1\.[01] ([1-5]\d\d)(?: |$)/.exec(first);
  const fields: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) fields.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return { length: end + 4, ...(status ? { status: Number(status[1]) } : {}), fields };
}

function field(fields: ParsedHead["fields"], name: string): string | undefined {
  const values = fields.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
  return values.length > 0 ? values.join(", ") : undefined;
}

/** A request's body framing (RFC 9112 §6.3): chunked, Content-Length, or none. */
export function requestFraming(fields: ParsedHead["fields"]): Framing | "invalid" {
  const coding = field(fields, "transfer-encoding");
  if (coding !== undefined) return /(^|,)\s*chunked\s*$/i.test(coding) ? { kind: "chunked" } : "invalid";
  const length = field(fields, "content-length");
  if (length === undefined) return { kind: "none" };
  return /^\d{1,15}$/.test(length) ? { kind: "length", bytes: Number(length) } : "invalid";
}

/** A response's body framing (RFC 9112 §6.3), given the request method. */
export function responseFraming(method: string, status: number, fields: ParsedHead["fields"]): Framing {
  if (method === "HEAD" || status < 200 || status === 204 || status === 304) return { kind: "none" };
  const coding = field(fields, "transfer-encoding");
  if (coding !== undefined)
    return /(^|,)\s*chunked\s*$/i.test(coding) ? { kind: "chunked" } : { kind: "close" };
  const length = field(fields, "content-length");
  if (length !== undefined && /^\d{1,15}$/.test(length)) return { kind: "length", bytes: Number(length) };
  return { kind: "close" };
}

/**
 * Follows a body through its chunks: `push` returns how many bytes of the chunk belong to the body
 * (all of them while it goes on), and `done` turns true at its last byte. "invalid" for a malformed
 * chunked coding.
 */
export class BodyTracker {
  #left: number;
  #chunked: ChunkedState | undefined;
  done: boolean;

  constructor(readonly framing: Framing) {
    this.#left = framing.kind === "length" ? framing.bytes : 0;
    this.#chunked = framing.kind === "chunked" ? { phase: "size", line: "", left: 0 } : undefined;
    this.done = framing.kind === "none" || (framing.kind === "length" && framing.bytes === 0);
  }

  push(chunk: Buffer): number | "invalid" {
    if (this.done) return 0;
    if (this.framing.kind === "close") return chunk.length;
    if (this.framing.kind === "length") {
      const taken = Math.min(this.#left, chunk.length);
      this.#left -= taken;
      this.done = this.#left === 0;
      return taken;
    }
    const state = this.#chunked as ChunkedState;
    const taken = scanChunked(state, chunk);
    if (taken === "invalid") return taken;
    this.done = state.phase === "done";
    return taken;
  }
}

interface ChunkedState {
  /** size: reading a chunk-size line; data: chunk bytes; data-crlf: the CRLF after them; trailer: trailer lines. */
  phase: "size" | "data" | "data-crlf" | "trailer" | "done";
  line: string;
  left: number;
}

const MAX_LINE = 8 * 1024;

/** Advances through a chunked body (RFC 9112 §7.1); returns the bytes consumed from `chunk`. */
function scanChunked(state: ChunkedState, chunk: Buffer): number | "invalid" {
  let i = 0;
  while (i < chunk.length && state.phase !== "done") {
    if (state.phase === "data") {
      const taken = Math.min(state.left, chunk.length - i);
      i += taken;
      state.left -= taken;
      if (state.left === 0) state.phase = "data-crlf";
      continue;
    }
    state.line += String.fromCharCode(chunk[i++] as number);
    if (state.line.length > MAX_LINE) return "invalid";
    if (state.phase === "data-crlf" && !"\r\n".startsWith(state.line)) return "invalid";
    if (!state.line.endsWith("\r\n")) continue;
    const line = state.line.slice(0, -2);
    state.line = "";
    if (!endLine(state, line)) return "invalid";
  }
  return i;
}

/** A complete line of the chunked coding (size line, CRLF after data, trailer line); false if malformed. */
function endLine(state: ChunkedState, line: string): boolean {
  if (state.phase === "data-crlf") {
    state.phase = "size";
    return line === "";
  }
  if (state.phase === "size") {
    const size = /^([0-9a-fA-F]{1,12})(?:[ \t]*;.*)?$/.exec(line);
    if (!size) return false;
    state.left = Number.parseInt(size[1] as string, 16);
    state.phase = state.left === 0 ? "trailer" : "data";
    return true;
  }
  if (line === "") state.phase = "done"; // the blank line that ends the trailer section
  return true;
}
