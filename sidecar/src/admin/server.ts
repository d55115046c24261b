import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { ERROR_CODES, SidecarError } from "../errors.js";
import { pathTag, shadowKey } from "../keys/cache-key.js";
import type { ProxyContext } from "../proxy/context.js";
import { probeUpstream } from "../proxy/upstream-probe.js";
import type { PolicyHolder } from "../reload/policy-holder.js";
import { normalizePath, splitTarget } from "../routing/normalize-path.js";
import { INVALIDATION_RULE_ADMIN } from "../telemetry/metric-names.js";
import { MAX_WARM_PATHS, type Warmer } from "../warm/warmer.js";
import { type AdminAuth, type AdminRejectReason, authorize, isLoopback } from "./auth.js";
import type { StatsRecorder } from "./stats-recorder.js";
import { buildStatsReport } from "./stats-report.js";

/**
 * The admin listener (separate from the proxy): GET /healthz, /readyz, /metrics, /stats;
 * POST /invalidate {tags?, keys?, paths?}; POST /warm {paths?, host?}. /healthz, /readyz and /metrics
 * are open (probes, Prometheus); every other endpoint needs `Authorization: Bearer <token>` unless the
 * API is `open` — which it may be only on a loopback address, or with `insecure` (--admin-insecure).
 */
export interface AdminOptions {
  readonly ctx: ProxyContext;
  readonly holder: PolicyHolder;
  readonly stats: StatsRecorder;
  readonly warmer: Warmer;
  readonly host: string;
  readonly port: number;
  readonly auth: AdminAuth;
  /** Allow an `open` API on a non-loopback address (--admin-insecure). */
  readonly insecure?: boolean;
  /** True once the sidecar shuts down: readiness says no, so endpoints drop the pod first. */
  readonly stopping?: () => boolean;
}

export interface AdminServer {
  readonly url: string;
  close(): Promise<void>;
}

const OPEN = new Set(["/healthz", "/readyz", "/metrics"]);
const KNOWN_PATHS = new Set(["/stats", "/invalidate", "/warm"]);
const MAX_BODY = 1024 * 1024;
/** host[:port], as spec.warm[].host allows. */
const WARM_HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$/;

export async function startAdminServer(options: AdminOptions): Promise<AdminServer> {
  if (exposedWithoutToken(options)) {
    options.ctx.log.warn(
      { code: ERROR_CODES.ADMIN_INSECURE, admin: `${options.host}:${options.port}` },
      "--admin-insecure: /invalidate, /warm and /stats are open to anyone who can reach the admin address",
    );
  }
  const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
    route(options, req, res).catch((error: unknown) => {
      options.ctx.log.error({ err: error, path: req.url }, "admin request failed");
      if (!res.headersSent) json(res, 500, { error: "internal error" });
    });
  });
  const url = await new Promise<string>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      const address = server.address() as { address: string; port: number; family: string };
      resolve(
        `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`,
      );
    });
  });
  return { url, close: () => closeServer(server) };
}

/**
 * Refuses (throws APICACHE_ERR_ADMIN_INSECURE) to serve the mutation API without a credential beyond
 * the pod, unless told to; true when it is told to (the caller warns).
 */
export function exposedWithoutToken(
  options: Pick<AdminOptions, "auth" | "host" | "port" | "insecure">,
): boolean {
  if (options.auth.kind !== "open" || isLoopback(options.host)) return false;
  if (options.insecure) return true;
  throw new SidecarError(
    ERROR_CODES.ADMIN_INSECURE,
    `the admin API on ${options.host}:${options.port} (not a loopback address) would let anyone who can reach it flush the cache (/invalidate), make it fetch (/warm) and read /stats: give --admin-token-file FILE, listen on 127.0.0.1, or pass --admin-insecure to allow it`,
  );
}

async function route(options: AdminOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { path } = splitTarget(req.url ?? "/");
  if (!OPEN.has(path)) {
    const rejected = authorize(options.auth, req.headers.authorization);
    if (rejected) return refuse(options, res, path, rejected);
  }
  const endpoint = `${req.method} ${path}`;
  switch (endpoint) {
    case "GET /healthz":
      return json(res, 200, { status: "ok" });
    case "GET /readyz":
      return readiness(options, res);
    case "GET /metrics":
      return metrics(options, res);
    case "GET /stats":
      return json(res, 200, buildStatsReport(options.stats.snapshot(), options.holder.current));
    case "POST /invalidate":
      return invalidate(options, req, res);
    case "POST /warm":
      return warm(options, req, res);
    default:
      return json(res, 404, {
        error: `no admin endpoint ${endpoint}`,
        endpoints: [
          "GET /healthz",
          "GET /readyz",
          "GET /metrics",
          "GET /stats",
          "POST /invalidate",
          "POST /warm",
        ],
      });
  }
}

/** 401 (no or wrong token) or 503 (token file not there yet), with a stable code; counted. */
function refuse(options: AdminOptions, res: ServerResponse, path: string, reason: AdminRejectReason): void {
  const endpoint = KNOWN_PATHS.has(path) ? path : "other";
  options.ctx.metrics.adminRejected.labels(endpoint, reason).inc();
  if (reason === "token-pending") {
    res.setHeader("retry-after", "10");
    json(res, 503, {
      error: ERROR_CODES.ADMIN_TOKEN_PENDING,
      message: "the admin token file has not appeared yet (its Secret is being created): retry shortly",
    });
    return;
  }
  res.setHeader(
    "www-authenticate",
    `Bearer realm="apicache-admin"${reason === "invalid" ? ', error="invalid_token"' : ""}`,
  );
  json(res, 401, {
    error: ERROR_CODES.ADMIN_UNAUTHORIZED,
    message:
      reason === "missing"
        ? "send Authorization: Bearer <token from --admin-token-file>"
        : "the bearer token does not match --admin-token-file",
  });
}

async function readiness(options: AdminOptions, res: ServerResponse): Promise<void> {
  const store = options.ctx.store.health();
  const upstream = await probeUpstream(options.ctx.upstream.origin);
  const stopping = options.stopping?.() === true;
  // Nothing listening upstream (the app exited): not ready, so the pod leaves the endpoints even
  // though the store could still answer hits.
  const ready = !stopping && upstream !== "refused" && (upstream === "reachable" || store.ok);
  json(res, ready ? 200 : 503, {
    ready,
    ...(stopping ? { stopping: true } : {}),
    policy: options.holder.current.label,
    configHash: options.holder.current.hash,
    upstream,
    store: { name: options.ctx.store.name, ...store },
  });
}

async function metrics(options: AdminOptions, res: ServerResponse): Promise<void> {
  const { ctx, holder } = options;
  const l1 = ctx.store.stats?.().l1;
  if (l1) {
    ctx.metrics.l1Bytes.labels(holder.current.label).set(l1.bytes);
    ctx.metrics.l1Entries.labels(holder.current.label).set(l1.entries);
  }
  const body = await ctx.metrics.registry.metrics();
  res.writeHead(200, { "content-type": ctx.metrics.registry.contentType });
  res.end(body);
}

async function invalidate(options: AdminOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJson(req);
  const tags = stringList(body, "tags");
  const keys = stringList(body, "keys");
  const paths = stringList(body, "paths");
  if (!body || !tags || !keys || !paths) {
    return json(res, 400, {
      error: ERROR_CODES.ADMIN_BAD_REQUEST,
      message: 'send JSON {"tags": [...], "keys": [...], "paths": [...]} (each optional, strings only)',
    });
  }
  const pathTags = paths.map((path) => pathTag(normalizePath(splitTarget(path).path)));
  const removed = await options.ctx.invalidator.invalidate({
    policy: options.holder.current.label,
    source: "admin",
    rules: [INVALIDATION_RULE_ADMIN],
    tags: [...tags, ...pathTags],
    keys: [...keys, ...keys.map(shadowKey)],
  });
  options.ctx.log.info({ tags, keys, paths, removed }, "admin invalidation");
  json(res, 200, { removed });
}

async function warm(options: AdminOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJson(req, true);
  const paths = body === null ? undefined : stringList(body, "paths");
  const host = body?.host;
  const hostOk = host === undefined || (typeof host === "string" && WARM_HOST.test(host));
  if (body === undefined || (body !== null && paths === undefined) || !hostOk) {
    return json(res, 400, {
      error: ERROR_CODES.ADMIN_BAD_REQUEST,
      message:
        'send no body, or JSON {"paths": ["/path?query", ...], "host": "api.example.com"} (host optional)',
    });
  }
  if (paths && paths.length > MAX_WARM_PATHS) {
    return json(res, 400, {
      error: ERROR_CODES.WARM_TOO_MANY_PATHS,
      message: `at most ${MAX_WARM_PATHS} paths per call (got ${paths.length}): split the list`,
    });
  }
  const targets =
    paths && paths.length > 0
      ? paths.map((path) => ({ path, ...(typeof host === "string" ? { host } : {}) }))
      : undefined;
  const results = await options.warmer.warm(options.holder.current, targets);
  json(res, 200, { results });
}

/** The parsed JSON object; null for an empty body when allowed; undefined when invalid. */
async function readJson(
  req: IncomingMessage,
  emptyAllowed = false,
): Promise<Record<string, unknown> | null | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return emptyAllowed ? null : {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function stringList(body: Record<string, unknown> | null | undefined, field: string): string[] | undefined {
  const value = body?.[field];
  if (value === undefined) return [];
  return Array.isArray(value) && value.every((item) => typeof item === "string") ? value : undefined;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
