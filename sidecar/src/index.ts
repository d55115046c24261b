import type { Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { formatProblems, INVALID_POLICY_CODE, InvalidPolicyError } from "@apicache/crds";
import type { Logger } from "pino";
import type { AdminAuth } from "./admin/auth.js";
import { type AdminServer, exposedWithoutToken, startAdminServer } from "./admin/server.js";
import { StatsRecorder } from "./admin/stats-recorder.js";
import { TokenFile } from "./admin/token-file.js";
import { ERROR_CODES, SidecarError } from "./errors.js";
import { LearnedVary } from "./http-cache/learned-vary.js";
import type { StartSidecarOptions } from "./options.js";
import { Coalescer } from "./proxy/coalescer.js";
import type { FillResult, ProxyContext } from "./proxy/context.js";
import { EntryReader } from "./proxy/entry-reader.js";
import { createRequestHandler } from "./proxy/handler.js";
import { Invalidator } from "./proxy/invalidator.js";
import { createProxyServer } from "./proxy/server.js";
import { createUpgradeProxy, type UpgradeProxy } from "./proxy/upgrade.js";
import { createUpstream, type UpstreamOptions } from "./proxy/upstream.js";
import { PolicyHolder } from "./reload/policy-holder.js";
import type { PolicySource } from "./reload/policy-source.js";
import { readConfig } from "./reload/read-config.js";
import type { CompiledPolicy } from "./routing/compile-policy.js";
import { buildSharedStore, createWarmer } from "./shared-store.js";
import type { Coordination } from "./store/fill-lease.js";
import type { CacheStore } from "./store/types.js";
import { createLogger } from "./telemetry/logger.js";
import { createMetrics, type SidecarMetrics } from "./telemetry/metrics.js";
import { createRequestObserver } from "./telemetry/request-observer.js";
import type { Warmer } from "./warm/warmer.js";

/**
 * The programmatic entry: everything main.ts does, for tests, load tests and the operator e2e.
 *
 *   const sidecar = await startSidecar({ policy: yamlText, upstream: "http://127.0.0.1:8080" });
 *   await fetch(`${sidecar.url}/api/v2/services`);
 *   await sidecar.close();
 */
export type { StartSidecarOptions } from "./options.js";

export interface Sidecar {
  readonly url: string;
  readonly adminUrl?: string;
  readonly metrics: SidecarMetrics;
  readonly store: CacheStore;
  readonly stats: StatsRecorder;
  policy(): CompiledPolicy;
  /** Applies a new policy text, as a reload from `origin` would. */
  reload(text: string, origin?: string): ReturnType<PolicyHolder["apply"]>;
  /** Runs the spec.warm entries (or the given paths) now. */
  warm(paths?: readonly string[]): ReturnType<Warmer["warm"]>;
  /**
   * Reports not ready and keeps serving for `delayMs` (every response with `Connection: close`), then
   * stops accepting, drains in-flight requests (up to `drainMs`), closes the upstream pool and store.
   */
  close(options?: { readonly delayMs?: number; readonly drainMs?: number }): Promise<void>;
}

export async function startSidecar(options: StartSidecarOptions): Promise<Sidecar> {
  const log = options.logger ?? createLogger("info");
  const now = options.clock ?? Date.now;
  const { policy, format } = compileInitial(options.policy, options.policyOrigin ?? "the policy");
  const tokenFile = options.adminTokenFile ? new TokenFile({ ...options.adminTokenFile, log }) : undefined;
  const auth = adminAuth(options, tokenFile);
  const adminAt = options.admin === false ? undefined : { host: "127.0.0.1", port: 0, ...options.admin };
  // Before anything listens: an unprotected non-loopback admin API refuses to start.
  if (adminAt) exposedWithoutToken({ auth, ...adminAt, insecure: options.adminInsecure === true });
  const metrics = createMetrics({ collectDefault: options.processMetrics ?? options.logger === undefined });
  const coalescer = new Coalescer<FillResult>();
  const shared = buildSharedStore(policy, options, { metrics, log, now, coalescer });
  const { store, coordination } = shared;
  const holder = new PolicyHolder(policy, metrics, log);
  const stats = new StatsRecorder(now);
  const invalidator = new Invalidator({ store, coalescer: coalescer as Coalescer<unknown>, metrics, log });
  invalidator.onInvalidate((tags) => stats.invalidated(tags));
  const upstream = createUpstream(options.upstream, upstreamOptions(options));
  const ctx: ProxyContext = {
    policy: () => holder.current,
    store,
    upstream,
    metrics,
    observer: createRequestObserver(metrics, stats, log),
    log,
    now,
    coalescer,
    invalidator,
    entries: new EntryReader(store, log),
    learnedVary: new LearnedVary(),
    ...(coordination ? { leases: coordination.fills } : {}),
  };
  const upgrades = createUpgradeProxy(ctx);
  const server = createProxyServer(createRequestHandler(ctx), options.limits ?? {}, log, upgrades.handle);
  const url = await listen(server, options.listen?.host ?? "127.0.0.1", options.listen?.port ?? 0);
  const warmer = createWarmer(ctx, coordination, policy.store.keyPrefix);
  if (options.warm !== false) scheduleWarming(warmer, holder);
  const lifecycle = { stopping: false };
  const admin =
    options.admin === false
      ? undefined
      : await startAdminServer({
          ctx,
          holder,
          stats,
          warmer,
          host: adminAt?.host ?? "127.0.0.1",
          port: adminAt?.port ?? 0,
          stopping: () => lifecycle.stopping,
          auth,
          insecure: options.adminInsecure === true,
        });
  tokenFile?.start();
  for (const source of options.sources ?? []) source.start((text, origin) => holder.apply(text, origin));
  log.info(
    {
      url,
      admin: admin?.url,
      upstream: upstream.origin,
      policy: policy.label,
      configHash: policy.hash,
      format,
      store: store.name,
      mode: policy.mode,
    },
    "apicache sidecar listening",
  );
  return {
    url,
    ...(admin ? { adminUrl: admin.url } : {}),
    metrics,
    store,
    stats,
    policy: () => holder.current,
    reload: (text, origin = "reload") => holder.apply(text, origin),
    warm: (paths) =>
      warmer.warm(
        holder.current,
        paths?.map((path) => ({ path })),
      ),
    close: (closeOptions) => {
      lifecycle.stopping = true;
      tokenFile?.stop();
      return shutdown(
        { server, upgrades, admin, upstream, ...shared, warmer, sources: options.sources ?? [], log },
        { delayMs: closeOptions?.delayMs ?? 0, drainMs: closeOptions?.drainMs ?? 10_000 },
      );
    },
  };
}

/** spec.warm on its schedule, rescheduled when the policy changes. */
function scheduleWarming(warmer: Warmer, holder: PolicyHolder): void {
  warmer.schedule(holder.current);
  holder.onChange((next) => warmer.schedule(next));
}

function adminAuth(options: StartSidecarOptions, tokenFile: TokenFile | undefined): AdminAuth {
  if (tokenFile) return { kind: "token", current: () => tokenFile.current() };
  const token = options.adminToken;
  if (token === undefined) return { kind: "open" };
  if (token.trim() === "") {
    throw new SidecarError(
      ERROR_CODES.ADMIN_TOKEN,
      "adminToken is empty: an empty token would leave the admin API open",
    );
  }
  return { kind: "token", current: () => token };
}

function upstreamOptions(options: StartSidecarOptions): UpstreamOptions {
  return {
    ...(options.upstreamConnections ? { connections: options.upstreamConnections } : {}),
    ...(options.upstreamQueueTimeoutMs === undefined
      ? {}
      : { queueTimeoutMs: options.upstreamQueueTimeoutMs }),
  };
}

/** No last good policy to keep yet: a text the sidecar cannot run stops the start (main.ts exits 1). */
function compileInitial(text: string, origin: string): { policy: CompiledPolicy; format: string } {
  const read = readConfig(text);
  if (read.ok) return read;
  if (read.code === INVALID_POLICY_CODE) throw new InvalidPolicyError(read.problems, origin);
  throw new SidecarError(
    read.code,
    `${origin} is of a version this sidecar does not read: ${formatProblems(read.problems)}`,
  );
}

function listen(server: Server, host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address() as AddressInfo;
      const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
      resolve(`http://${shown}:${address.port}`);
    });
  });
}

interface Running {
  readonly server: Server;
  readonly upgrades: UpgradeProxy;
  readonly admin?: AdminServer | undefined;
  readonly upstream: ProxyContext["upstream"];
  readonly store: CacheStore;
  readonly coordination: Coordination | undefined;
  readonly warmer: Warmer;
  readonly sources: readonly PolicySource[];
  readonly log: Logger;
}

/**
 * Graceful stop, in two phases. First, for `delayMs`, the sidecar keeps accepting and answering while
 * its readiness says no (the admin API's /readyz): Services and load balancers take the pod out of
 * rotation in that time, and every response says `Connection: close`, so clients move their next
 * request elsewhere instead of finding a closed port. Then: no new connections; requests on open
 * connections are still answered; connections close as soon as they are idle (a request in flight at
 * the start finishes first), so a client that keeps its connection open cannot hold the drain open
 * until the deadline. After `drainMs`, whatever is left is cut, upgraded connections (WebSockets)
 * included: they keep working until then.
 */
async function shutdown(running: Running, times: { delayMs: number; drainMs: number }): Promise<void> {
  for (const source of running.sources) source.stop();
  running.warmer.stop();
  const { server } = running;
  server.prependListener("request", (_req, res: ServerResponse) => {
    res.shouldKeepAlive = false;
  });
  if (times.delayMs > 0) {
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    await new Promise((resolve) => setTimeout(resolve, times.delayMs));
    clearInterval(idle);
  }
  const { drainMs } = times;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const idleSweep = setInterval(() => server.closeIdleConnections(), 100);
  const deadline = setTimeout(() => {
    server.closeAllConnections();
    running.upgrades.destroyAll();
  }, drainMs);
  await closed;
  clearInterval(idleSweep);
  clearTimeout(deadline);
  await running.admin?.close();
  await running.upstream.close().catch(() => undefined);
  await running.coordination?.close();
  await running.store
    .close()
    .catch((error: unknown) => running.log.warn({ err: error }, "closing the store failed"));
}

export { listen };
