/**
 * The faults `make test-faults` injects, and for each the alert the operations guide documents. One
 * table: the suite asserts each row's alert reaches `pending` in a real Prometheus and that recovery
 * stays within the row's bound; docs/operations.md carries the same rows (rendered by
 * `renderOperationsTable`, checked by operations-doc.int.test.ts).
 */
export interface FaultRow {
  readonly id: string;
  /** The failure, as an operator would name it. */
  readonly failure: string;
  /** How the suite injects it. */
  readonly injected: string;
  /** What clients see meanwhile. */
  readonly clientsSee: string;
  /** The shipped alert that must reach `pending`; undefined: none is expected (and none should be needed). */
  readonly alert: string | undefined;
  /** Recovery (first cache hit on an entry the upstream made after the fault ended) must be within this. */
  readonly recoverWithinMs: number;
  readonly whatToDo: string;
}

export const FAULTS: readonly FaultRow[] = [
  {
    id: "redis-killed",
    failure: "Redis down (killed, restarted empty on the same address)",
    injected: "SIGKILL redis-server under load, start it again after the alert is pending",
    clientsSee:
      "200 from the upstream (`fwd=uri-miss`, slower); L1 is off while its invalidation channel is down; no errors",
    alert: "ApicacheStoreCircuitOpen",
    recoverWithinMs: 10_000,
    whatToDo:
      "Bring Redis back; the sidecar reconnects, closes its circuit and applies pending invalidations by itself",
  },
  {
    id: "redis-debug-sleep",
    failure: "Redis slow: blocked by a long command (`DEBUG SLEEP 3`)",
    injected: "`DEBUG SLEEP 3` on the sidecar's Redis",
    clientsSee:
      "200 from the upstream after the 50 ms command timeout, then the circuit opens and skips Redis",
    alert: "ApicacheStoreCircuitOpen",
    recoverWithinMs: 10_000,
    whatToDo: "Find the slow command (`SLOWLOG GET`, `LATENCY DOCTOR`); nothing to do in apicache",
  },
  {
    id: "redis-client-pause",
    failure: "Redis slow: every client paused (`CLIENT PAUSE … ALL`, a failover or a maintenance)",
    injected: "`CLIENT PAUSE 3000 ALL` (a new connection cannot unpause it early)",
    clientsSee:
      "200 from the upstream after the 50 ms command timeout, then the circuit opens and skips Redis",
    alert: "ApicacheStoreCircuitOpen",
    recoverWithinMs: 10_000,
    whatToDo: "Check who paused Redis (a failover in progress, an operator); it resumes by itself",
  },
  {
    id: "redis-maxmemory",
    failure: "Redis at `maxmemory` with `noeviction`",
    injected:
      "4 MiB of other keys, then `maxmemory` 1 MiB below use with `noeviction`: every write answers OOM",
    clientsSee:
      "200; hits on what is stored, new fills refused (OOM), so the hit ratio decays; the circuit may open (seen in the suite)",
    alert: "ApicacheStoreErrors",
    recoverWithinMs: 10_000,
    whatToDo: "Use `volatile-lru` (docs/sidecar.md, Redis settings) or raise `maxmemory`",
  },
  {
    id: "upstream-killed",
    failure: "Upstream down (the app's process killed, restarted on the same port)",
    injected: "the upstream stops listening and resets its connections, then listens again",
    clientsSee:
      "hits as before; misses get `502` (`detail=upstream-refused`) or `stale-if-error` within `staleIfError`",
    alert: "ApicacheUpstreamErrors",
    recoverWithinMs: 10_000,
    whatToDo: "The app's trouble: check its pods and logs",
  },
  {
    id: "upstream-hangs",
    failure: "Upstream hangs (accepts, never answers)",
    injected: "the upstream reads requests and never answers until the fault ends (then resets them)",
    clientsSee:
      "hits as before; misses wait `spec.upstream.timeout`, then `504` (`detail=upstream-timeout`) or `stale-if-error`",
    alert: "ApicacheUpstreamErrors",
    recoverWithinMs: 10_000,
    whatToDo: "The app's trouble; lower `spec.upstream.timeout` if clients give up before it",
  },
  {
    id: "upstream-truncates",
    failure: "Upstream truncates bodies (Content-Length larger than what it sends, then closes)",
    injected: "every upstream answer promises 64 bytes more than it sends, then the connection is closed",
    clientsSee:
      "hits as before; misses get `502` (`detail=upstream-truncated`) or `stale-if-error`; never stored",
    alert: "ApicacheUpstreamErrors",
    recoverWithinMs: 10_000,
    whatToDo: "The app's trouble (or a proxy between): check its logs",
  },
  {
    id: "invalid-policy",
    failure: "Invalid CachePolicy pushed to the sidecar",
    injected: "the policy file (a ConfigMap volume) swapped for an invalid one, then the good one again",
    clientsSee: "nothing: the last good policy stays in effect",
    alert: "ApicacheConfigReloadFailing",
    recoverWithinMs: 10_000,
    whatToDo:
      "Read the sidecar's `APICACHE_ERR_INVALID_POLICY` log line and the CachePolicy's Valid condition",
  },
  {
    id: "sidecar-restarted",
    failure: "Sidecar restarted under load (rolling restart: SIGTERM, drain)",
    injected:
      "a new sidecar process starts; SIGTERM to the old one; the load follows readiness as a Service does",
    clientsSee: "nothing: requests in flight finish, new ones go to the ready process",
    alert: undefined,
    recoverWithinMs: 10_000,
    whatToDo: "Nothing; keep `--shutdown-delay` above the endpoints' propagation time",
  },
  {
    id: "redis-cluster-failover",
    failure: "Redis Cluster primary failed over to its replica",
    injected: "`CLUSTER FAILOVER` on a replica (3 primaries, 1 replica each)",
    clientsSee: "200 throughout; commands to the moved slots are redirected",
    alert: undefined,
    recoverWithinMs: 10_000,
    whatToDo: "Nothing; the sidecar follows the new slot owners",
  },
];

export function faultRow(id: string): FaultRow {
  const row = FAULTS.find((f) => f.id === id);
  if (!row) throw new Error(`no fault row ${id}`);
  return row;
}

/** The rows as docs/operations.md shows them (between its faults-table markers). */
export function renderOperationsTable(rows: readonly FaultRow[] = FAULTS): string {
  const lines = [
    "| failure | what clients see | alert (reaches `pending`) | recovers within | what to do |",
    "|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.failure} | ${r.clientsSee} | ${r.alert ? `[${r.alert}](monitoring.md#${r.alert.toLowerCase()})` : "none"} | ${r.recoverWithinMs / 1_000} s | ${r.whatToDo} |`,
    ),
  ];
  return lines.join("\n");
}

export const TABLE_START = "<!-- faults-table:start (generated from sidecar/test/faults/fault-table.ts) -->";
export const TABLE_END = "<!-- faults-table:end -->";
