import { createServer, type Server } from "node:http";
import type { ErrorRequestHandler, Express, RequestHandler } from "express";
import type { OperatorMetrics } from "../telemetry/metrics.js";
import { appMessages, exactApp } from "./express-app.js";
import { listenOn } from "./listen.js";

/** /metrics, /healthz and /readyz. Checks return undefined when fine, or what is wrong. */
export interface HealthChecks {
  readonly live: () => string | undefined;
  readonly ready: () => string | undefined;
}

/** The metrics server's routes, on express: any method, as Prometheus and the kubelet may use. */
export function metricsApp(metrics: OperatorMetrics, checks: HealthChecks): Express {
  const app = exactApp();
  app.all("/metrics", async (_req, res) => {
    const text = await metrics.registry.metrics();
    res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text);
  });
  app.all("/healthz", probe(checks.live));
  app.all("/readyz", probe(checks.ready));
  app.use(notFound);
  app.use(failed);
  return app;
}

function probe(check: () => string | undefined): RequestHandler {
  return (_req, res) => {
    const problem = check();
    res
      .writeHead(problem ? 503 : 200, { "content-type": "text/plain" })
      .end(problem ? `${problem}\n` : "ok\n");
  };
}

const notFound: RequestHandler = (_req, res) => {
  res.writeHead(404, { "content-type": "text/plain" }).end("try /metrics, /healthz or /readyz\n");
};

/** The one error handler: a failed /metrics (or check) is a bare 500. */
const failed: ErrorRequestHandler = (_error, _req, res, _next) => {
  if (!res.headersSent) res.writeHead(500).end();
};

export async function startMetricsServer(
  listen: { host: string; port: number },
  metrics: OperatorMetrics,
  checks: HealthChecks,
): Promise<{ port: number; server: Server; close(): Promise<void> }> {
  const app = metricsApp(metrics, checks);
  const server = createServer(appMessages(app), app);
  const port = await listenOn(server, "metrics", listen.host, listen.port);
  return {
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
