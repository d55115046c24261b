import { createHash, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

/**
 * Who may call the admin API's guarded endpoints (/invalidate, /warm, /stats). Pure.
 *
 * - `token`: a bearer token; `current()` is undefined while the token file has not appeared yet
 *   (an optional Secret volume that the operator fills in later): the guarded endpoints then refuse
 *   everyone until it does.
 * - `open`: no credential. Allowed on a loopback listener (only the pod itself reaches it), or
 *   anywhere with an explicit `--admin-insecure`.
 */
export type AdminAuth =
  | { readonly kind: "token"; readonly current: () => string | undefined }
  | { readonly kind: "open" };

/** Why a guarded request was refused: the label of apicache_admin_rejected_requests_total. */
export const ADMIN_REJECT_REASONS = ["missing", "invalid", "token-pending"] as const;
export type AdminRejectReason = (typeof ADMIN_REJECT_REASONS)[number];

export function authorize(auth: AdminAuth, header: string | undefined): AdminRejectReason | undefined {
  if (auth.kind === "open") return undefined;
  const token = auth.current();
  if (token === undefined) return "token-pending";
  if (header === undefined || header.trim() === "") return "missing";
  return bearerMatches(header, token) ? undefined : "invalid";
}

/**
 * Bearer token check for the admin API in constant time: both sides are hashed first, so neither the
 * token's content nor its length leaks through timing.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (header === undefined) return false;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!match) return false;
  const given = createHash("sha256")
    .update(match[1] as string)
    .digest();
  const expected = createHash("sha256").update(token).digest();
  return timingSafeEqual(given, expected);
}

/** 127.0.0.0/8, ::1 (and ::ffff:127.x), or the name localhost: only the pod itself can connect. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (bare === "localhost") return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  if (isIP(bare) === 6) return bare === "::1" || /^::ffff:127\./.test(bare);
  return false;
}
