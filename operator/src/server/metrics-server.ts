import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { OPERATOR_ERROR_CODES, OperatorError } from "../errors.js";
import type { OperatorMetrics } from "../telemetry/metrics.js";

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
  server.listen(listen.port, listen.host);
  try {
    await Promise.race([
      once(server, "listening"),
      once(server, "error").then(([error]) => Promise.reject(error)),
    ]);
  } catch (error) {
    throw new OperatorError(
      OPERATOR_ERROR_CODES.LISTEN,
      `metrics cannot listen on ${listen.host}:${listen.port}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
