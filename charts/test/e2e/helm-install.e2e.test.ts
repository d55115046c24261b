// `helm install` of charts/apicache into the e2e tier's real kube-apiserver (every rendered object is
// accepted and stored, the CRD becomes Established), then `helm uninstall` removes what it installed.
// Monitoring toggles stay off: the prometheus-operator CRDs do not exist in this control plane.

import { apiFailure, type KubeClients } from "@apicache/testkit/kube/client";
import { e2eClients, e2eKubeconfigPath } from "@apicache/testkit/kube/e2e-context";
import { waitFor } from "@apicache/testkit/wait";
import type { KubernetesObject, V1CustomResourceDefinition } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHART_DIR, HELMS, type Helm, helm, type K8sObject, setArgs, template } from "../helm.js";

const CRD_NAME = "cachepolicies.apicache.io";

async function exists(clients: KubeClients, object: K8sObject): Promise<boolean> {
  try {
    await clients.objects.read({
      apiVersion: object.apiVersion,
      kind: object.kind,
      metadata: { name: object.metadata.name, namespace: object.metadata.namespace ?? "" },
    } as KubernetesObject & { metadata: { name: string; namespace: string } });
    return true;
  } catch (error) {
    if (apiFailure(error)?.code === 404) return false;
    throw error;
  }
}

function isEstablished(crd: V1CustomResourceDefinition): boolean {
  return crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") === true;
}

describe.each(HELMS)("helm install with %s into a real API server", (which: Helm) => {
  const release = `apicache-${which}`;
  const namespace = `apicache-${which}-system`;
  const values = { "redis.bundled.enabled": true };
  let clients: KubeClients;
  let kubeconfig: string;
  let rendered: K8sObject[];

  beforeAll(async () => {
    clients = e2eClients();
    kubeconfig = e2eKubeconfigPath();
    rendered = (await template(which, values, { release, namespace })).map((o) => ({
      ...o,
      metadata: { ...o.metadata, namespace: isClusterScoped(o.kind) ? undefined : namespace },
    }));
  });

  // Whatever happened, leave no release (and no webhook registration) behind for the next test file.
  afterAll(async () => {
    await helm(which, [
      "uninstall",
      release,
      "--namespace",
      namespace,
      "--kubeconfig",
      kubeconfig,
      "--ignore-not-found",
    ]);
  });

  it("installs every object, and the CachePolicy CRD becomes Established", async () => {
    const result = await helm(which, [
      "install",
      release,
      CHART_DIR,
      "--namespace",
      namespace,
      "--create-namespace",
      "--kubeconfig",
      kubeconfig,
      // Other e2e files applied the CRD already with their own field manager, as the documented
      // upgrade path (`kubectl apply --server-side`) does; helm 4 applies server-side and would
      // report that as a conflict. helm 3 updates CRDs client-side and needs no flag.
      ...(which === "helm4" ? ["--force-conflicts"] : []),
      ...setArgs(values),
    ]);
    expect(result.stderr, result.stderr).not.toMatch(/Error/);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("STATUS: deployed");

    const missing: string[] = [];
    for (const object of rendered) {
      if (!(await exists(clients, object))) missing.push(`${object.kind}/${object.metadata.name}`);
    }
    expect(missing).toEqual([]);
    expect(rendered.map((o) => o.kind)).toEqual(
      expect.arrayContaining(["Deployment", "MutatingWebhookConfiguration"]),
    );

    await waitFor("the CachePolicy CRD to be Established", async () =>
      isEstablished(await clients.apiextensions.readCustomResourceDefinition({ name: CRD_NAME })),
    );
  });

  it("stores the webhook configuration as rendered: opt-in, CREATE pods, failurePolicy Ignore", async () => {
    const config = await clients.admission.readMutatingWebhookConfiguration({ name: release });
    const webhook = config.webhooks?.[0];
    expect(webhook?.failurePolicy).toBe("Ignore");
    expect(webhook?.rules?.[0]?.operations).toEqual(["CREATE"]);
    expect(webhook?.clientConfig.service).toMatchObject({ name: `${release}-webhook`, namespace, port: 443 });
    expect(webhook?.namespaceSelector?.matchExpressions?.[1]?.values).toEqual([namespace, "kube-system"]);
  });

  it("uninstalls: every object it installed is gone, the CRD stays (Helm never deletes crds/)", async () => {
    const result = await helm(which, [
      "uninstall",
      release,
      "--namespace",
      namespace,
      "--kubeconfig",
      kubeconfig,
    ]);
    expect(result.code, result.stderr).toBe(0);
    for (const object of rendered) {
      await waitFor(
        `${object.kind}/${object.metadata.name} to be deleted`,
        async () => !(await exists(clients, object)),
        {
          timeoutMs: 30_000,
          intervalMs: 200,
        },
      );
    }
    const list = await helm(which, [
      "list",
      "--all",
      "--namespace",
      namespace,
      "--kubeconfig",
      kubeconfig,
      "-q",
    ]);
    expect(list.stdout.trim()).toBe("");
    expect(isEstablished(await clients.apiextensions.readCustomResourceDefinition({ name: CRD_NAME }))).toBe(
      true,
    );
  });
});

function isClusterScoped(kind: string): boolean {
  return [
    "ClusterRole",
    "ClusterRoleBinding",
    "MutatingWebhookConfiguration",
    "CustomResourceDefinition",
  ].includes(kind);
}
