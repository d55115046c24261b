import { createServer, type Server } from "node:http";
import type { OperatorMetrics } from "../telemetry/metrics.js";
import { listenOn } from "./listen.js";

/** /metrics, /healthz and /readyz. Checks return undefined when fine, or what is wrong. */
export interface HealthChecks {
  readonly live: () => string | undefined;
  readonly ready: () => string | undefined;
}

export async function startMetricsServer(
  listen: { host: string; port: number },
  metrics: OperatorMetrics,
  checks: HealthChecks,
): Promise<{ port: number; server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = req.url?.split("?")[0];
    if (path === "/metrics") {
      metrics.registry
        .metrics()
        .then((text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text))
        .catch(() => res.writeHead(500).end());
      return;
    }
    const check = path === "/healthz" ? checks.live : path === "/readyz" ? checks.ready : undefined;
    if (!check) {
      res.writeHead(404, { "content-type": "text/plain" }).end("try /metrics, /healthz or /readyz\n");
      return;
    }
    const problem = check();
    res
      .writeHead(problem ? 503 : 200, { "content-type": "text/plain" })
      .end(problem ? `${problem}\n` : "ok\n");
  });
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
