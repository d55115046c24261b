import type { RequestHandler } from "express";
import { ERROR_CODES } from "../errors.js";
import { splitTarget } from "../routing/normalize-path.js";
import { AdminRefusal } from "./admin-refusal.js";
import { type AdminAuth, type AdminRejectReason, authorize } from "./auth.js";

/**
 * The admin API's auth middleware: every path but the `open` ones (probes, metrics) needs the bearer
 * token, whatever its method and whether or not an endpoint serves it (an unknown path is refused
 * before it is answered 404). A refusal is counted (`rejected`) and passed to the error handler:
 * 401 with WWW-Authenticate, or 503 with Retry-After while the token file has not appeared yet.
 */
export function requireToken(
  auth: AdminAuth,
  open: ReadonlySet<string>,
  rejected: (path: string, reason: AdminRejectReason) => void,
): RequestHandler {
  return (req, _res, next) => {
    const { path } = splitTarget(req.url);
    if (open.has(path)) return next();
    const reason = authorize(auth, req.headers.authorization);
    if (!reason) return next();
    rejected(path, reason);
    next(refusal(reason));
  };
}

function refusal(reason: AdminRejectReason): AdminRefusal {
  if (reason === "token-pending") {
    return new AdminRefusal(
      503,
      ERROR_CODES.ADMIN_TOKEN_PENDING,
      "the admin token file has not appeared yet (its Secret is being created): retry shortly",
      { "retry-after": "10" },
    );
  }
  return new AdminRefusal(
    401,
    ERROR_CODES.ADMIN_UNAUTHORIZED,
    reason === "missing"
      ? "send Authorization: Bearer <token from --admin-token-file>"
      : "the bearer token does not match --admin-token-file",
    {
      "www-authenticate": `Bearer realm="apicache-admin"${reason === "invalid" ? ', error="invalid_token"' : ""}`,
    },
  );
}
