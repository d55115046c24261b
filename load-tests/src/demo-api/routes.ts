import {
  ANALYTICS_RANGES,
  ANALYTICS_REPORTS,
  type AnalyticsRange,
  type AnalyticsReport,
} from "./queries/analytics.js";

/**
 * The demo API's routing, pure: method + URL in, a typed request (or an HTTP error) out. The server
 * turns a `DemoRequest` into queries; nothing here touches I/O.
 */
export type DemoRequest =
  | { readonly kind: "health" }
  /** The statement counters (statement-counter.ts): how much database work the API has done. */
  | { readonly kind: "db-stats" }
  | { readonly kind: "catalog" }
  | { readonly kind: "service"; readonly serviceId: number }
  | { readonly kind: "slots"; readonly barberId: number; readonly date: string }
  | { readonly kind: "analytics"; readonly report: AnalyticsReport; readonly range: AnalyticsRange }
  | { readonly kind: "dashboard" }
  | { readonly kind: "profile"; readonly userId: number }
  | { readonly kind: "create-appointment" }
  | { readonly kind: "cancel-appointment"; readonly appointmentId: number }
  | { readonly kind: "record-payment" }
  | { readonly kind: "update-availability"; readonly barberId: number }
  | { readonly kind: "update-profile"; readonly userId: number }
  | { readonly kind: "update-service"; readonly serviceId: number };

export interface HttpError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

export type RouteResult =
  | { readonly ok: true; readonly request: DemoRequest }
  | { readonly ok: false; readonly error: HttpError };

const ID = "([1-9][0-9]{0,9})";
const DATE = /^\d{4}-\d{2}-\d{2}$/;

interface Pattern {
  readonly method: string;
  readonly path: RegExp;
  /** Receives the path's captured groups (ids are digits-only by the pattern) and the query. */
  readonly build: (groups: readonly string[], query: URLSearchParams) => DemoRequest | HttpError;
}

const PATTERNS: readonly Pattern[] = [
  { method: "GET", path: /^\/healthz$/, build: () => ({ kind: "health" }) },
  { method: "GET", path: /^\/demo\/db-stats$/, build: () => ({ kind: "db-stats" }) },
  { method: "GET", path: /^\/api\/v2\/services$/, build: () => ({ kind: "catalog" }) },
  {
    method: "GET",
    path: new RegExp(`^/api/v2/services/${ID}$`),
    build: ([id]) => ({ kind: "service", serviceId: Number(id) }),
  },
  { method: "GET", path: new RegExp(`^/api/v2/barbers/${ID}/slots$`), build: slots },
  { method: "GET", path: /^\/api\/v2\/analytics\/([a-z-]+)$/, build: analytics },
  { method: "GET", path: /^\/api\/v2\/dashboard$/, build: () => ({ kind: "dashboard" }) },
  {
    method: "GET",
    path: new RegExp(`^/api/v2/users/${ID}/profile$`),
    build: ([id]) => ({ kind: "profile", userId: Number(id) }),
  },
  { method: "POST", path: /^\/api\/v2\/appointments$/, build: () => ({ kind: "create-appointment" }) },
  {
    method: "DELETE",
    path: new RegExp(`^/api/v2/appointments/${ID}$`),
    build: ([id]) => ({ kind: "cancel-appointment", appointmentId: Number(id) }),
  },
  { method: "POST", path: /^\/api\/v2\/payments$/, build: () => ({ kind: "record-payment" }) },
  {
    method: "PUT",
    path: new RegExp(`^/api/v2/barbers/${ID}/availability$`),
    build: ([id]) => ({ kind: "update-availability", barberId: Number(id) }),
  },
  {
    method: "PUT",
    path: new RegExp(`^/api/v2/users/${ID}/profile$`),
    build: ([id]) => ({ kind: "update-profile", userId: Number(id) }),
  },
  {
    method: "PUT",
    path: new RegExp(`^/api/v2/services/${ID}$`),
    build: ([id]) => ({ kind: "update-service", serviceId: Number(id) }),
  },
];

function slots([barberId]: readonly string[], query: URLSearchParams): DemoRequest | HttpError {
  const date = query.get("date");
  if (!date || !DATE.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) {
    return badRequest("query parameter date=YYYY-MM-DD is required");
  }
  return { kind: "slots", barberId: Number(barberId), date };
}

function analytics([report = ""]: readonly string[], query: URLSearchParams): DemoRequest | HttpError {
  if (!(ANALYTICS_REPORTS as readonly string[]).includes(report)) {
    return {
      status: 404,
      code: "not_found",
      message: `no analytics report ${JSON.stringify(report)}; try ${ANALYTICS_REPORTS.join(", ")}`,
    };
  }
  const range = query.get("range") ?? "30d";
  if (!(range in ANALYTICS_RANGES))
    return badRequest(`range must be one of ${Object.keys(ANALYTICS_RANGES).join(", ")}`);
  return { kind: "analytics", report: report as AnalyticsReport, range: range as AnalyticsRange };
}

function badRequest(message: string): HttpError {
  return { status: 400, code: "bad_request", message };
}

export function routeRequest(method: string, rawUrl: string): RouteResult {
  const url = new URL(rawUrl, "http://demo.invalid");
  let pathMatched = false;
  for (const pattern of PATTERNS) {
    const match = pattern.path.exec(url.pathname);
    if (!match) continue;
    pathMatched = true;
    if (pattern.method !== method && !(pattern.method === "GET" && method === "HEAD")) continue;
    const built = pattern.build(match.slice(1), url.searchParams);
    return "kind" in built ? { ok: true, request: built } : { ok: false, error: built };
  }
  return pathMatched
    ? {
        ok: false,
        error: {
          status: 405,
          code: "method_not_allowed",
          message: `${method} is not allowed on ${url.pathname}`,
        },
      }
    : { ok: false, error: { status: 404, code: "not_found", message: `no route for ${url.pathname}` } };
}
