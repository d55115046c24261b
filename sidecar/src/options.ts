import type { Logger } from "pino";
import type { ServerLimits } from "./proxy/server.js";
import type { UpstreamOptions } from "./proxy/upstream.js";
import type { PolicySource } from "./reload/policy-source.js";
import type { CacheStore } from "./store/types.js";

/** What `startSidecar` (index.ts) takes: everything main.ts sets from its flags, and what tests inject. */
export interface StartSidecarOptions {
  /** The CachePolicy manifest text (YAML or JSON). */
  readonly policy: string;
  /** Where the policy came from, for logs ("file /etc/apicache/policy.yaml"). */
  readonly policyOrigin?: string;
  /** The upstream application's base URL, e.g. http://127.0.0.1:8080. */
  readonly upstream: string;
  /** Proxy listener (default 127.0.0.1, a free port). */
  readonly listen?: { readonly host?: string; readonly port?: number };
  /** Admin listener (default 127.0.0.1, a free port); false: none. */
  readonly admin?: { readonly host?: string; readonly port?: number } | false;
  /** Bearer token required by the admin API (except /healthz, /readyz and /metrics). */
  readonly adminToken?: string;
  /**
   * The token from a file, re-read every `pollMs` (default 1 s). Empty or unreadable: startSidecar
   * throws APICACHE_ERR_ADMIN_TOKEN. With `wait`, a file that does not exist yet is allowed.
   */
  readonly adminTokenFile?: { readonly path: string; readonly wait?: boolean; readonly pollMs?: number };
  /** Allow an admin API without a token on a non-loopback address (default: refuse to start). */
  readonly adminInsecure?: boolean;
  /** A store to use instead of the one the policy and redisUrl describe. */
  readonly store?: CacheStore;
  readonly redisUrl?: string;
  /** Clock in ms (default Date.now): freshness decisions use it; tests inject one. */
  readonly clock?: () => number;
  readonly logger?: Logger;
  /**
   * Process metrics on /metrics (prom-client's defaults: heap, event-loop delay, descriptors, CPU).
   * Default: on when no logger is injected (embedding tests inject one and skip the monitors); the CLI
   * turns them on.
   */
  readonly processMetrics?: boolean;
  /** Sources of policy updates (file watch, ConfigMap watch). Started now, stopped on close. */
  readonly sources?: readonly PolicySource[];
  readonly limits?: ServerLimits;
  /** Concurrent upstream requests per lane (upstream.ts; default fill 64, write 32, pass 128). */
  readonly upstreamConnections?: UpstreamOptions["connections"];
  /** Longest wait for a free upstream connection of a lane (default 5 s), then 503. */
  readonly upstreamQueueTimeoutMs?: number;
  /** Run spec.warm on its schedule (default true). */
  readonly warm?: boolean;
}
