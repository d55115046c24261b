import type { ServerResponse } from "node:http";
import { type ErrorCode, SidecarError } from "../errors.js";

/**
 * An admin request refused with a stable code: rendered by the admin API's one error handler as
 * `errorBody` (`{"error": code, "message": ...}`) with its status and headers (WWW-Authenticate, Retry-After).
 */
export class AdminRefusal extends SidecarError {
  constructor(
    readonly status: 400 | 401 | 503,
    code: ErrorCode,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(code, message);
    this.name = "AdminRefusal";
  }
}

/** A JSON answer as the admin API writes every one: exact Content-Type, a trailing newline. */
export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
