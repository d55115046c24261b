import { createServer, type Server } from "node:http";
import { ERROR_CODES, SidecarError } from "../errors.js";
import { type AdminAppDeps, adminApp } from "./admin-app.js";
import { isLoopback } from "./auth.js";

/**
 * The admin listener (separate from the proxy), serving the admin API (admin-app.ts, on express).
 * /healthz, /readyz and /metrics are open (probes, Prometheus); every other endpoint needs
 * `Authorization: Bearer <token>` unless the API is `open` — which it may be only on a loopback
 * address, or with `insecure` (--admin-insecure).
 */
export interface AdminOptions extends AdminAppDeps {
  readonly host: string;
  readonly port: number;
  /** Allow an `open` API on a non-loopback address (--admin-insecure). */
  readonly insecure?: boolean;
}

export interface AdminServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startAdminServer(options: AdminOptions): Promise<AdminServer> {
  if (exposedWithoutToken(options)) {
    options.ctx.log.warn(
      { code: ERROR_CODES.ADMIN_INSECURE, admin: `${options.host}:${options.port}` },
      "--admin-insecure: /invalidate, /warm and /stats are open to anyone who can reach the admin address",
    );
  }
  const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, adminApp(options));
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

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
