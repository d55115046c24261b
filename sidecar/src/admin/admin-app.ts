import { errorBody, HEALTH_PATH, READY_PATH } from "@apicache/crds";
import type { ErrorRequestHandler, Express, RequestHandler } from "express";
import type { Logger } from "pino";
import { splitTarget } from "../routing/normalize-path.js";
import {
  type AdminEndpointDeps,
  healthz,
  invalidate,
  metrics,
  readiness,
  stats,
  warm,
} from "./admin-endpoints.js";
import { AdminRefusal, json } from "./admin-refusal.js";
import type { AdminAuth } from "./auth.js";
import { exactApp } from "./express-app.js";
import { requireToken } from "./require-token.js";

/**
 * The admin API as an express app: GET /healthz, /readyz, /metrics, /stats; POST /invalidate
 * {tags?, keys?, paths?}; POST /warm {paths?, host?}. /healthz, /readyz and /metrics are open (probes,
 * Prometheus); every other path needs the bearer token (require-token.ts). Refusals and failures go to
 * one error handler.
 */
export interface AdminAppDeps extends AdminEndpointDeps {
  readonly auth: AdminAuth;
}

/** The probes (their paths from the contract the operator injects them by) and Prometheus. */
const OPEN = new Set([HEALTH_PATH, READY_PATH, "/metrics"]);
/** The `endpoint` label of apicache_admin_rejected_requests_total: these, or "other". */
const GUARDED = new Set(["/stats", "/invalidate", "/warm"]);
const ENDPOINTS = [
  `GET ${HEALTH_PATH}`,
  `GET ${READY_PATH}`,
  "GET /metrics",
  "GET /stats",
  "POST /invalidate",
  "POST /warm",
];

export function adminApp(deps: AdminAppDeps): Express {
  const app = exactApp();
  app.use(
    requireToken(deps.auth, OPEN, (path, reason) =>
      deps.ctx.metrics.adminRejected.labels(GUARDED.has(path) ? path : "other", reason).inc(),
    ),
  );
  app.get(HEALTH_PATH, healthz);
  app.get(READY_PATH, readiness(deps));
  app.get("/metrics", metrics(deps));
  app.get("/stats", stats(deps));
  app.post("/invalidate", ...invalidate(deps));
  app.post("/warm", ...warm(deps));
  app.use(notFound);
  app.use(errors(deps.ctx.log));
  return app;
}

const notFound: RequestHandler = (req, res) => {
  const endpoint = `${req.method} ${splitTarget(req.url).path}`;
  json(res, 404, { error: `no admin endpoint ${endpoint}`, endpoints: ENDPOINTS });
};

/** The one error handler: a refusal is answered with its status, code and headers; anything else is a 500. */
function errors(log: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    if (error instanceof AdminRefusal) {
      for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
      json(res, error.status, errorBody(error));
      return;
    }
    log.error({ err: error, path: req.url }, "admin request failed");
    if (!res.headersSent) json(res, 500, { error: "internal error" });
  };
}
