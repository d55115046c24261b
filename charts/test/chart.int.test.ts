// The chart under helm 3 and helm 4: lint, render every toggle combination, reject wrong values, and carry
// exactly the generated dashboard, rules and CRD.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cachePolicyCrdYaml } from "@apicache/crds";
import { dashboardJson, ruleGroups } from "@apicache/monitoring";
import type {
  V1Container,
  V1Deployment,
  V1MutatingWebhook,
  V1MutatingWebhookConfiguration,
  V1PodSpec,
} from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CHART_DIR, HELMS, helm, type K8sObject, template } from "./helm.js";

const TOGGLES = [
  "monitoring.serviceMonitor.enabled",
  "monitoring.podMonitor.enabled",
  "monitoring.prometheusRule.enabled",
  "monitoring.dashboard.enabled",
  "redis.bundled.enabled",
  "certManager",
] as const;

/** Every on/off combination of the toggles (certManager stands for webhook.certificate.mode). */
function combinations(): Record<string, string | boolean>[] {
  return Array.from({ length: 2 ** TOGGLES.length }, (_, bits) => {
    const values: Record<string, string | boolean> = {};
    TOGGLES.forEach((toggle, i) => {
      const on = (bits & (1 << i)) !== 0;
      if (toggle === "certManager") values["webhook.certificate.mode"] = on ? "cert-manager" : "self-managed";
      else values[toggle] = on;
    });
    return values;
  });
}

function kinds(objects: readonly K8sObject[]): string[] {
  return objects.map((o) => o.kind);
}

function expectedOptionalKinds(values: Record<string, string | boolean>): string[] {
  const expected: string[] = [];
  if (values["monitoring.serviceMonitor.enabled"]) expected.push("ServiceMonitor");
  if (values["monitoring.podMonitor.enabled"]) expected.push("PodMonitor");
  if (values["monitoring.prometheusRule.enabled"]) expected.push("PrometheusRule");
  // The CA chain: self-signed Issuer, CA Certificate, CA Issuer, serving Certificate.
  if (values["webhook.certificate.mode"] === "cert-manager")
    expected.push("Certificate", "Certificate", "Issuer", "Issuer");
  return expected.sort();
}

const OPTIONAL_KINDS = new Set(["ServiceMonitor", "PodMonitor", "PrometheusRule", "Certificate", "Issuer"]);

describe("the apicache chart", () => {
  it.each(HELMS)("passes %s lint --strict", async (which) => {
    const result = await helm(which, ["lint", "--strict", CHART_DIR]);
    expect(result.stdout).toContain("0 chart(s) failed");
    expect(result.code).toBe(0);
  });

  it.each(HELMS)(
    "renders the defaults with %s: operator, RBAC, webhook, and nothing optional",
    async (which) => {
      const objects = await template(which);
      expect(kinds(objects).sort()).toEqual(
        [
          "ClusterRole",
          "ClusterRoleBinding",
          "Deployment",
          "MutatingWebhookConfiguration",
          "PodDisruptionBudget",
          "Role",
          "RoleBinding",
          "Service",
          "Service",
          "ServiceAccount",
        ].sort(),
      );
      for (const object of objects) {
        expect(object.metadata.labels?.["app.kubernetes.io/part-of"]).toBe("apicache");
      }
    },
  );

  it("renders every combination of the monitoring, Redis and certificate toggles (helm 4)", async () => {
    for (const values of combinations()) {
      const objects = await template("helm4", values);
      const optional = kinds(objects)
        .filter((k) => OPTIONAL_KINDS.has(k))
        .sort();
      expect(optional, JSON.stringify(values)).toEqual(expectedOptionalKinds(values));
      const dashboards = objects.filter((o) => o.kind === "ConfigMap");
      expect(dashboards.length, JSON.stringify(values)).toBe(values["monitoring.dashboard.enabled"] ? 1 : 0);
      const redis = objects.filter((o) => o.metadata.name === "apicache-redis");
      expect(redis.length, JSON.stringify(values)).toBe(values["redis.bundled.enabled"] ? 2 : 0);
      for (const object of objects) expect(object.metadata.name, object.kind).toMatch(/^[a-z0-9.-]{1,63}$/);
    }
  }, 120_000);

  it("renders everything on with helm 3 as well", async () => {
    const all = combinations().at(-1) ?? {};
    const objects = await template("helm3", all);
    expect(
      kinds(objects)
        .filter((k) => OPTIONAL_KINDS.has(k))
        .sort(),
    ).toEqual(expectedOptionalKinds(all));
  });

  it("runs the operator with leader election, probes and the restricted security context", async () => {
    const objects = await template("helm4");
    const deployment = objects.find((o) => o.kind === "Deployment") as unknown as V1Deployment;
    const pod = deployment.spec?.template.spec as V1PodSpec;
    const container = pod.containers[0] as V1Container;
    expect(deployment.spec?.replicas).toBe(2);
    expect(container.args).toContain("--leader-elect=true");
    expect(container.livenessProbe?.httpGet?.path).toBe("/healthz");
    expect(container.readinessProbe?.httpGet?.path).toBe("/readyz");
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
  });

  it("passes sidecar.resources to the operator as its --sidecar-* resource flags", async () => {
    const args = async (values: Record<string, string>) => {
      const objects = await template("helm4", values);
      const deployment = objects.find((o) => o.kind === "Deployment") as unknown as V1Deployment;
      const container = deployment.spec?.template.spec?.containers[0] as V1Container;
      return (container.args ?? []).filter((arg) => /^--sidecar-(cpu|memory)-/.test(arg));
    };
    expect(await args({})).toEqual([]);
    expect(
      await args({ "sidecar.resources.requests.cpu": "100m", "sidecar.resources.limits.memory": "1Gi" }),
    ).toEqual(["--sidecar-cpu-request=100m", "--sidecar-memory-limit=1Gi"]);
  });

  it("lets the operator list and watch LimitRanges (the webhook fits the sidecar into them)", async () => {
    const objects = await template("helm4");
    const role = objects.find((o) => o.kind === "ClusterRole") as unknown as {
      rules: { resources: string[]; verbs: string[] }[];
    };
    expect(role.rules.find((rule) => rule.resources.includes("limitranges"))?.verbs).toEqual([
      "list",
      "watch",
    ]);
  });

  it("registers the webhook for pod CREATE only, opt-in, never blocking", async () => {
    const objects = await template("helm4");
    const config = objects.find(
      (o) => o.kind === "MutatingWebhookConfiguration",
    ) as unknown as V1MutatingWebhookConfiguration;
    const webhook = config.webhooks?.[0] as V1MutatingWebhook;
    expect(webhook).toMatchObject({
      failurePolicy: "Ignore",
      sideEffects: "None",
      admissionReviewVersions: ["v1"],
      rules: [{ operations: ["CREATE"], resources: ["pods"] }],
      objectSelector: {
        matchExpressions: [{ key: "apicache.io/inject", operator: "NotIn", values: ["false"] }],
      },
    });
    expect(webhook.namespaceSelector?.matchExpressions).toEqual([
      { key: "apicache.io/injection", operator: "In", values: ["enabled"] },
      { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["apicache-system", "kube-system"] },
    ]);
    expect(webhook.clientConfig.caBundle).toBeUndefined();
  });

  it("points the webhook at cert-manager's CA in cert-manager mode and drops the Secret write access", async () => {
    const objects = await template("helm4", { "webhook.certificate.mode": "cert-manager" });
    const config = objects.find((o) => o.kind === "MutatingWebhookConfiguration") as unknown as {
      metadata: { annotations: Record<string, string> };
    };
    expect(config.metadata.annotations["cert-manager.io/inject-ca-from"]).toBe(
      "apicache-system/apicache-webhook-ca",
    );
    const role = objects.find((o) => o.kind === "Role") as unknown as { rules: { resources: string[] }[] };
    expect(role.rules.flatMap((r) => r.resources)).not.toContain("secrets");
  });

  it("ships the generated rules in the PrometheusRule and the generated dashboard in the ConfigMap", async () => {
    const objects = await template("helm4", {
      "monitoring.prometheusRule.enabled": true,
      "monitoring.dashboard.enabled": true,
    });
    const rule = objects.find((o) => o.kind === "PrometheusRule") as unknown as { spec: { groups: unknown } };
    expect(rule.spec.groups).toEqual(ruleGroups());
    const dashboard = objects.find((o) => o.kind === "ConfigMap") as unknown as {
      metadata: { labels: Record<string, string> };
      data: Record<string, string>;
    };
    expect(dashboard.metadata.labels.grafana_dashboard).toBe("1");
    expect(JSON.parse(dashboard.data["apicache.json"] ?? "")).toEqual(JSON.parse(dashboardJson()));
  });

  it("carries the CRD exactly as crds/ generates it", () => {
    const copy = readFileSync(join(CHART_DIR, "crds", "apicache.io_cachepolicies.yaml"), "utf8");
    expect(parse(copy)).toEqual(parse(cachePolicyCrdYaml()));
  });
});

describe("values.schema.json", () => {
  const wrong: [string, string[]][] = [
    ["an unknown top-level key", ["--set", "replicas=3"]],
    ["an unknown nested key", ["--set", "operator.replica=3"]],
    ["zero operator replicas", ["--set", "operator.replicas=0"]],
    ["a replica count that is a string", ["--set-string", "operator.replicas=two"]],
    ["a webhook timeout over the API server's 30 s maximum", ["--set", "webhook.timeoutSeconds=60"]],
    ["a failurePolicy (always Ignore, not a value)", ["--set", "webhook.failurePolicy=Fail"]],
    ["an unknown certificate mode", ["--set", "webhook.certificate.mode=manual"]],
    ["a malformed scrape interval", ["--set", "monitoring.podMonitor.interval=30 seconds"]],
    ["a malformed image digest", ["--set", "operator.image.digest=latest"]],
    ["a log level the operator rejects", ["--set", "operator.logLevel=verbose"]],
    ["a non-boolean toggle", ["--set-string", "redis.bundled.enabled=yes"]],
    ["a sidecar CPU limit that is not a quantity", ["--set", "sidecar.resources.limits.cpu=half"]],
    ["a sidecar resource other than cpu and memory", ["--set", "sidecar.resources.limits.gpu=1"]],
  ];

  it.each(HELMS.flatMap((h) => wrong.map(([what, args]) => [h, what, args] as const)))(
    "%s rejects %s",
    async (which, _what, args) => {
      const result = await helm(which, ["template", "apicache", CHART_DIR, ...args]);
      expect(result.stderr).toMatch(/values don't meet the specifications of the schema/);
      expect(result.code).not.toBe(0);
    },
  );

  it.each(HELMS)("%s accepts a realistic production values file", async (which) => {
    const result = await helm(which, [
      "template",
      "apicache",
      CHART_DIR,
      "--set",
      "operator.replicas=3,operator.logLevel=debug,webhook.timeoutSeconds=10",
      "--set",
      `operator.image.digest=sha256:${"a".repeat(64)}`,
      "--set",
      "monitoring.podMonitor.enabled=true,monitoring.podMonitor.interval=15s",
      "--set",
      "webhook.certificate.mode=cert-manager,webhook.certificate.certManager.issuerRef.kind=ClusterIssuer",
      "--set",
      "webhook.certificate.certManager.issuerRef.name=corp-ca",
    ]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("operator@sha256:");
    expect(result.stdout).toContain("name: corp-ca");
  });
});
