// A real Prometheus scrapes a real operator (in-process, against the e2e tier's kube-apiserver) that
// reconciles a CachePolicy and answers the API server's webhook calls: every operator PromQL expression
// of the dashboard and the rules returns data. The operator e2e harness (operator/test/e2e/harness.ts)
// installs the CRD and starts the operator the way the operator's own e2e tests do.
import { createTestNamespace, type KubeClients } from "@apicache/testkit/kube/client";
import { e2eClients, e2eKubeconfigPath } from "@apicache/testkit/kube/e2e-context";
import { waitFor } from "@apicache/testkit/wait";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createPolicy,
  deleteWebhookConfiguration,
  injectionNamespace,
  installCrd,
  policyManifest,
  startTestOperator,
  type TestOperator,
  waitUntilInjecting,
} from "../../../operator/test/e2e/harness.js";
import {
  dashboardExpressions,
  resolveGrafanaVariables,
  ruleExpressions,
  rulesYaml,
  type SourcedExpression,
} from "../../src/index.js";
import { type Prometheus, startPrometheus } from "../prometheus.js";

/**
 * Expressions over a counter that only exists once it moved: informer restarts happen on watch errors,
 * which a healthy API server does not produce. These are only checked to be valid PromQL.
 */
const ONLY_AFTER_A_FAILURE = ["Informer restarts", "ApicacheOperatorInformerRestarts"];

function needsFailure(e: SourcedExpression): boolean {
  return ONLY_AFTER_A_FAILURE.some((marker) => e.source.includes(marker));
}

describe("a real Prometheus scraping a running operator", () => {
  let clients: KubeClients;
  let operator: TestOperator;
  let prometheus: Prometheus;
  const expressions = [...dashboardExpressions(), ...ruleExpressions()].filter((e) => e.needs === "operator");

  beforeAll(async () => {
    clients = e2eClients();
    await installCrd(clients);
    const operatorNamespace = await createTestNamespace(clients, "apicache-mon");
    operator = await startTestOperator({ kubeconfig: e2eKubeconfigPath(), namespace: operatorNamespace });
    prometheus = await startPrometheus({
      targets: [
        {
          job: "apicache-operator",
          target: `127.0.0.1:${operator.handle.metricsPort}`,
          labels: { namespace: operatorNamespace, pod: "apicache-operator-0" },
        },
      ],
      rules: rulesYaml({ alertFor: "2s" }),
    });
    await waitFor("the operator to lead", () => operator.handle.isLeader(), { timeoutMs: 20_000 });

    // Work for the controller (a reconcile) and the webhook (injections, requested by the API server).
    const shop = await injectionNamespace(clients, "mon-shop");
    await createPolicy(clients, policyManifest("catalog", shop));
    await waitUntilInjecting(clients, shop, { app: "catalog" });
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
    await operator?.stop();
    if (operator) await deleteWebhookConfiguration(clients, operator.configurationName);
  });

  it("scrapes reconciles, injections, webhook latency, the certificate expiry and the leader", async () => {
    const wanted = [
      'apicache_operator_reconcile_total{result="success"}',
      'apicache_operator_injections_total{result="injected"}',
      "apicache_operator_webhook_duration_seconds_count",
      "apicache_operator_webhook_certificate_expiry_timestamp_seconds > time()",
      "apicache_operator_leader == 1",
      "apicache_operator_queue_depth",
    ];
    await waitFor(
      "Prometheus to hold the operator's series",
      async () => (await Promise.all(wanted.map((e) => prometheus.query(e)))).every((r) => r.length > 0),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
  }, 60_000);

  it.each(expressions.filter((e) => !needsFailure(e)).map((e): [string, SourcedExpression] => [e.source, e]))(
    "returns data: %s",
    async (_source, expression) => {
      // Rates need two samples of a moved counter: poll briefly rather than assume the timing.
      const result = await waitFor(
        expression.expr,
        async () => {
          const samples = await prometheus.query(resolveGrafanaVariables(expression.expr, "1m"));
          return samples.length > 0 ? samples : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 250 },
      );
      expect(result.length).toBeGreaterThan(0);
    },
  );

  it.each(expressions.filter(needsFailure).map((e): [string, SourcedExpression] => [e.source, e]))(
    "is valid PromQL (its counter only exists after a failure): %s",
    async (_source, expression) => {
      await expect(prometheus.query(resolveGrafanaVariables(expression.expr, "1m"))).resolves.toBeInstanceOf(
        Array,
      );
    },
  );

  it("leaves the certificate and no-leader alerts quiet while healthy", async () => {
    const alerts = await prometheus.alerts();
    const firing = alerts.filter((a) => a.state === "firing").map((a) => a.labels.alertname);
    expect(firing).not.toContain("ApicacheWebhookCertificateExpiring");
    expect(firing).not.toContain("ApicacheOperatorNoLeader");
  });
});
