import { join } from "node:path";
import { repoRoot } from "../kube/tools.js";
import { waitFor } from "../wait.js";
import { helm, kubectl } from "./kubectl.js";

/**
 * The demo as users run it on a cluster — the chart installed with the test cluster's values
 * (load-tests/cluster/values.yaml), the demo namespace and its CachePolicy, the demo API behind a
 * Service — in the one order that works: the webhook has its CA before the CachePolicy, and the
 * CachePolicy is Ready before the pods it selects are created. `make cluster-demo` and the cluster
 * tier both use it.
 */
export const release = "apicache";
export const systemNamespace = "apicache-system";
export const demoNamespace = "apicache-demo";
export const demoService = `http://demo-api.${demoNamespace}.svc.cluster.local`;

const file = (...path: string[]) => join(repoRoot, ...path);
export const demoFiles = {
  chart: file("charts", "apicache"),
  values: file("load-tests", "cluster", "values.yaml"),
  namespace: file("load-tests", "cluster", "demo-namespace.yaml"),
  policy: file("load-tests", "policies", "demo.yaml"),
  database: file("load-tests", "cluster", "demo-db.yaml"),
  api: file("load-tests", "cluster", "demo-api.yaml"),
} as const;

export interface ClusterTools {
  readonly k: ReturnType<typeof kubectl>;
  readonly helm: ReturnType<typeof helm>;
}

export function clusterTools(kubeconfig: string): ClusterTools {
  return { k: kubectl(kubeconfig), helm: helm(kubeconfig) };
}

/** `helm upgrade --install` the chart, wait for the operator, then for the webhook's caBundle. */
export async function installChart(tools: ClusterTools, extra: readonly string[] = []): Promise<void> {
  await tools.helm([
    "upgrade",
    "--install",
    release,
    demoFiles.chart,
    "--namespace",
    systemNamespace,
    "--create-namespace",
    "-f",
    demoFiles.values,
    ...extra,
    "--wait",
    "--timeout",
    "300s",
  ]);
  await waitFor(
    "the webhook's caBundle (the operator publishes its CA)",
    async () => {
      const config = JSON.parse(
        await tools.k(["get", "mutatingwebhookconfiguration", release, "-o", "json"]),
      ) as {
        webhooks: { clientConfig: { caBundle?: string } }[];
      };
      return (config.webhooks[0]?.clientConfig.caBundle ?? "") !== "";
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
}

/**
 * The demo namespace and Redis Secret, the CachePolicy (until Ready), the database the API's replicas
 * share, then the API (each rolled out).
 */
export async function deployDemo(tools: ClusterTools): Promise<void> {
  await tools.k(["apply", "-f", demoFiles.namespace]);
  await tools.k(["apply", "-f", demoFiles.policy]);
  await tools.k([
    "-n",
    demoNamespace,
    "wait",
    "--for=condition=Ready",
    "cachepolicy/demo-api",
    "--timeout=120s",
  ]);
  await tools.k(["apply", "-f", demoFiles.database]);
  await tools.k(["-n", demoNamespace, "rollout", "status", "deployment/demo-db", "--timeout=120s"]);
  await tools.k(["apply", "-f", demoFiles.api]);
  await tools.k(["-n", demoNamespace, "rollout", "status", "deployment/demo-api", "--timeout=300s"]);
}
