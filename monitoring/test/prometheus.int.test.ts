// A real Prometheus scrapes a running sidecar (in front of a small upstream, with a real Redis) under a
// short load, with the generated rules loaded: every PromQL expression of the dashboard and the rules
// returns data, and stopping Redis makes the Redis alerts fire (circuit, errors, pending invalidations).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Sidecar, startSidecar } from "@apicache/sidecar";
import { createLogger } from "@apicache/sidecar/telemetry/logger";
import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { waitFor } from "@apicache/testkit/wait";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  dashboardExpressions,
  resolveGrafanaVariables,
  ruleExpressions,
  rulesYaml,
  type SourcedExpression,
} from "../src/index.js";
import { type Prometheus, startPrometheus } from "./prometheus.js";

const POLICY = `
apiVersion: apicache.io/v1alpha1
kind: CachePolicy
metadata: { name: catalog, namespace: shop }
spec:
  selector: { matchLabels: { app: catalog } }
  upstream: { port: http }
  store:
    redis: { urlSecretRef: { name: redis, key: url }, commandTimeout: 50ms }
    memory: { maxBytes: 1Mi }
  defaults: { ttl: 30s, staleWhileRevalidate: 1s, staleIfError: 10m }
  routes:
    - name: items
      path: /items/:id
      tags: ["item:{id}"]
    - name: flaky
      path: /flaky
      ttl: 1s
      staleWhileRevalidate: 0s
  warm:
    - { path: /items/warm, every: 10s }
  invalidate:
    - name: item-written
      path: /items/:id
      methods: [POST]
      tags: ["item:{id}"]
`;

/** The upstream: items answer after 20 ms of latency; /flaky answers once, then fails with 503. */
function startUpstream(): Promise<Server> {
  let flakyCalls = 0;
  const server = createServer((req, res) => {
    if (req.url === "/flaky") {
      flakyCalls++;
      res.writeHead(flakyCalls === 1 ? 200 : 503, { "content-type": "application/json" });
      res.end(JSON.stringify({ flaky: flakyCalls }));
      return;
    }
    req.resume();
    setTimeout(() => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ url: req.url, at: Date.now(), pad: "x".repeat(512) }));
    }, 20);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function get(url: string, init?: RequestInit): Promise<number> {
  const response = await fetch(url, init);
  await response.arrayBuffer();
  return response.status;
}

/** A bounded load: repeat reads (hits), new keys in parallel bursts (coalescing), writes, the flaky route,
 * an admin call without the token. */
async function load(sidecar: Sidecar, round: number): Promise<void> {
  for (let i = 0; i < 40; i++) await get(`${sidecar.url}/items/${i % 5}`);
  await Promise.all(Array.from({ length: 8 }, () => get(`${sidecar.url}/items/burst-${round}`)));
  await get(`${sidecar.url}/items/${round % 5}`, { method: "POST", body: "{}" });
  await get(`${sidecar.url}/flaky`);
  await get(`${sidecar.url}/unrouted`);
  // An admin call without the token: refused and counted (the refused-calls alert's series).
  if (sidecar.adminUrl) await get(`${sidecar.adminUrl}/stats`);
}

function hostPort(url: string): string {
  return new URL(url).host;
}

describe("a real Prometheus scraping a sidecar with the generated rules", () => {
  let upstream: Server;
  let redis: RedisServer;
  let sidecar: Sidecar;
  let prometheus: Prometheus;
  let round = 0;

  beforeAll(async () => {
    upstream = await startUpstream();
    redis = await startRedis();
    sidecar = await startSidecar({
      policy: POLICY,
      upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      redisUrl: redis.url,
      adminToken: "prometheus-test-token",
      logger: createLogger("silent"),
    });
    if (sidecar.adminUrl === undefined) throw new Error("the sidecar started without its admin listener");
    prometheus = await startPrometheus({
      targets: [
        {
          job: "apicache-sidecar",
          target: hostPort(sidecar.adminUrl),
          labels: { namespace: "shop", pod: "catalog-0" },
        },
      ],
      // The real rules with a short `for`, so alerts fire within the test.
      rules: rulesYaml({ alertFor: "2s" }),
    });
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await sidecar?.close({ drainMs: 1_000 });
    await redis?.stop();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  it("scrapes the sidecar's metrics under load, with Redis up", async () => {
    // Policy reloads, one good and one rejected, so the reload counters exist with both results.
    await sidecar.reload(POLICY.replace("ttl: 30s", "ttl: 31s"), "test");
    await sidecar.reload("not: a policy", "test");
    await waitFor(
      "Prometheus to record hits, upstream errors, invalidations and coalesced requests",
      async () => {
        await load(sidecar, round++);
        const wanted = [
          'apicache_requests_total{outcome="hit"}',
          'apicache_requests_total{outcome="stale-if-error"}',
          "apicache_upstream_errors_total",
          "apicache_invalidations_total",
          "apicache_coalesced_requests_total",
          "apicache:policy_requests:rate5m > 0.5",
        ];
        const results = await Promise.all(wanted.map((expr) => prometheus.query(expr)));
        return results.every((r) => r.length > 0);
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    // The headline on real data: repeated reads of a 20 ms upstream, mostly hits, are far faster.
    const [improvement] = await prometheus.query('apicache:improvement_ratio:rate5m{route="items"}');
    expect(improvement?.metric).toMatchObject({ namespace: "shop", policy: "shop/catalog", route: "items" });
    expect(Number(improvement?.value[1])).toBeGreaterThan(0.3);
  }, 90_000);

  it("fires the Redis alerts when Redis stops", async () => {
    // Nothing was dropped: the dropped-invalidations counter exists (at 0) from the start.
    expect(await prometheus.query("apicache_store_dropped_invalidations_total == 0")).toHaveLength(1);
    await redis.stop();
    // The load's writes invalidate while Redis is down: the invalidations wait in the pending queue.
    const redisAlerts = ["ApicacheStoreCircuitOpen", "ApicacheStoreErrors", "ApicacheInvalidationsPending"];
    const firing = await waitFor(
      `${redisAlerts.join(", ")} to fire`,
      async () => {
        await load(sidecar, round++);
        const alerts = await prometheus.alerts();
        const names = new Set(alerts.filter((a) => a.state === "firing").map((a) => a.labels.alertname));
        return redisAlerts.every((name) => names.has(name)) ? alerts : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const circuit = firing.find((a) => a.labels.alertname === "ApicacheStoreCircuitOpen");
    expect(circuit?.labels).toMatchObject({ namespace: "shop", pod: "catalog-0", severity: "critical" });
    const pending = firing.find((a) => a.labels.alertname === "ApicacheInvalidationsPending");
    expect(pending?.labels).toMatchObject({ namespace: "shop", pod: "catalog-0", store: "redis" });
    // A short outage fills no queue: nothing dropped, so the critical drop alert stays quiet.
    expect(firing.map((a) => a.labels.alertname)).not.toContain("ApicacheInvalidationsDropped");
  }, 90_000);

  describe("every PromQL expression of the dashboard and the rules", () => {
    // Checked after the Redis outage above, so the store error series exist too.
    const sidecarExpressions = [...dashboardExpressions(), ...ruleExpressions()].filter(
      (e) => e.needs === "sidecar",
    );
    const operatorExpressions = [...dashboardExpressions(), ...ruleExpressions()].filter(
      (e) => e.needs === "operator",
    );

    it.each(sidecarExpressions.map((e): [string, SourcedExpression] => [e.source, e]))(
      "returns data: %s",
      async (_source, expression) => {
        const result = await prometheus.query(resolveGrafanaVariables(expression.expr, "1m"));
        expect(result.length, expression.expr).toBeGreaterThan(0);
      },
    );

    // The operator needs a kube-apiserver; here Prometheus can only prove these are valid PromQL.
    it.each(operatorExpressions.map((e): [string, SourcedExpression] => [e.source, e]))(
      "is valid PromQL (operator metrics, not scraped here): %s",
      async (_source, expression) => {
        await expect(
          prometheus.query(resolveGrafanaVariables(expression.expr, "1m")),
        ).resolves.toBeInstanceOf(Array);
      },
    );
  });
});
