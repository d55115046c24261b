import type { IncomingMessage, ServerResponse } from "node:http";
import express, { type ErrorRequestHandler, type RequestHandler } from "express";
import { ERROR_CODES } from "../errors.js";
import { pathTag, shadowKey } from "../keys/cache-key.js";
import type { ProxyContext } from "../proxy/context.js";
import { probeUpstream } from "../proxy/upstream-probe.js";
import type { PolicyHolder } from "../reload/policy-holder.js";
import { normalizePath, splitTarget } from "../routing/normalize-path.js";
import { INVALIDATION_RULE_ADMIN } from "../telemetry/metric-names.js";
import { MAX_WARM_PATHS, type Warmer } from "../warm/warmer.js";
import { AdminRefusal, json } from "./admin-refusal.js";
import type { StatsRecorder } from "./stats-recorder.js";
import { buildStatsReport } from "./stats-report.js";

/** What the admin endpoints read and act on. */
export interface AdminEndpointDeps {
  readonly ctx: ProxyContext;
  readonly holder: PolicyHolder;
  readonly stats: StatsRecorder;
  readonly warmer: Warmer;
  /** True once the sidecar shuts down: readiness says no, so endpoints drop the pod first. */
  readonly stopping?: () => boolean;
}

type Handler = (req: IncomingMessage & { body?: unknown }, res: ServerResponse) => Promise<void> | void;

/** The largest admin request body read. */
export const MAX_BODY = 1024 * 1024;
/** host[:port], as spec.warm[].host allows. */
const WARM_HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$/;
const INVALIDATE_USAGE =
  'send JSON {"tags": [...], "keys": [...], "paths": [...]} (each optional, strings only)';
const WARM_USAGE =
  'send no body, or JSON {"paths": ["/path?query", ...], "host": "api.example.com"} (host optional)';

/**
 * The JSON body of a mutating endpoint, whatever its Content-Type, up to MAX_BODY: anything the parser
 * refuses (not JSON, too large, not UTF-8) is a 400 with the endpoint's usage.
 */
export function jsonBody(usage: string): [RequestHandler, ErrorRequestHandler] {
  return [
    express.json({ limit: MAX_BODY, type: () => true, strict: true, inflate: false }),
    (_error, _req, _res, next) => next(new AdminRefusal(400, ERROR_CODES.ADMIN_BAD_REQUEST, usage)),
  ];
}

export const healthz: Handler = (_req, res) => json(res, 200, { status: "ok" });

export function readiness(deps: AdminEndpointDeps): Handler {
  return async (_req, res) => {
    const store = deps.ctx.store.health();
    const upstream = await probeUpstream(deps.ctx.upstream.origin);
    const stopping = deps.stopping?.() === true;
    // Nothing listening upstream (the app exited): not ready, so the pod leaves the endpoints even
    // though the store could still answer hits.
    const ready = !stopping && upstream !== "refused" && (upstream === "reachable" || store.ok);
    json(res, ready ? 200 : 503, {
      ready,
      ...(stopping ? { stopping: true } : {}),
      policy: deps.holder.current.label,
      configHash: deps.holder.current.hash,
      upstream,
      store: { name: deps.ctx.store.name, ...store },
    });
  };
}

export function metrics({ ctx, holder }: AdminEndpointDeps): Handler {
  return async (_req, res) => {
    const l1 = ctx.store.stats?.().l1;
    if (l1) {
      ctx.metrics.l1Bytes.labels(holder.current.label).set(l1.bytes);
      ctx.metrics.l1Entries.labels(holder.current.label).set(l1.entries);
    }
    const body = await ctx.metrics.registry.metrics();
    res.writeHead(200, { "content-type": ctx.metrics.registry.contentType });
    res.end(body);
  };
}

export function stats(deps: AdminEndpointDeps): Handler {
  return (_req, res) => json(res, 200, buildStatsReport(deps.stats.snapshot(), deps.holder.current));
}

export function invalidate(deps: AdminEndpointDeps): [...ReturnType<typeof jsonBody>, Handler] {
  const handler: Handler = async (req, res) => {
    const body = objectBody(req.body ?? {});
    const tags = stringList(body, "tags");
    const keys = stringList(body, "keys");
    const paths = stringList(body, "paths");
    if (!body || !tags || !keys || !paths) {
      throw new AdminRefusal(400, ERROR_CODES.ADMIN_BAD_REQUEST, INVALIDATE_USAGE);
    }
    const pathTags = paths.map((path) => pathTag(normalizePath(splitTarget(path).path)));
    const removed = await deps.ctx.invalidator.invalidate({
      policy: deps.holder.current.label,
      source: "admin",
      rules: [INVALIDATION_RULE_ADMIN],
      tags: [...tags, ...pathTags],
      keys: [...keys, ...keys.map(shadowKey)],
    });
    deps.ctx.log.info({ tags, keys, paths, removed }, "admin invalidation");
    json(res, 200, { removed });
  };
  return [...jsonBody(INVALIDATE_USAGE), handler];
}

export function warm(deps: AdminEndpointDeps): [...ReturnType<typeof jsonBody>, Handler] {
  const handler: Handler = async (req, res) => {
    // No body at all: warm every spec.warm path.
    const body = req.body === undefined ? null : objectBody(req.body);
    const paths = body === null ? undefined : stringList(body, "paths");
    const host = body?.host;
    const hostOk = host === undefined || (typeof host === "string" && WARM_HOST.test(host));
    if (body === undefined || (body !== null && paths === undefined) || !hostOk) {
      throw new AdminRefusal(400, ERROR_CODES.ADMIN_BAD_REQUEST, WARM_USAGE);
    }
    if (paths && paths.length > MAX_WARM_PATHS) {
      throw new AdminRefusal(
        400,
        ERROR_CODES.WARM_TOO_MANY_PATHS,
        `at most ${MAX_WARM_PATHS} paths per call (got ${paths.length}): split the list`,
      );
    }
    const targets =
      paths && paths.length > 0
        ? paths.map((path) => ({ path, ...(typeof host === "string" ? { host } : {}) }))
        : undefined;
    const results = await deps.warmer.warm(deps.holder.current, targets);
    json(res, 200, { results });
  };
  return [...jsonBody(WARM_USAGE), handler];
}

/** A JSON object; undefined for any other JSON value. */
function objectBody(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function stringList(body: Record<string, unknown> | null | undefined, field: string): string[] | undefined {
  const value = body?.[field];
  if (value === undefined) return [];
  return Array.isArray(value) && value.every((item) => typeof item === "string") ? value : undefined;
}
