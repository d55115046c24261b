import {
  type ClusterTools,
  clusterTools,
  demoNamespace,
  release,
  systemNamespace,
} from "../../../testkit/src/cluster/demo.js";
import { type Probe, startProbe } from "../../../testkit/src/cluster/probe.js";

/** Test helpers around the demo (testkit/src/cluster/demo.ts): pods, JSON reads, the lease, a probe. */
export const leaseName = `${release}-leader`;

export interface PodSummary {
  readonly name: string;
  readonly ip: string;
  readonly phase: string;
  readonly ready: boolean;
  readonly deleting: boolean;
  readonly containers: readonly { name: string; ready: boolean; init: boolean }[];
  readonly args: Readonly<Record<string, readonly string[]>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** The containers of a pod spec, as kubectl prints them (JSON). */
export interface PodSpecJson {
  containers: { name: string; args?: string[] }[];
  initContainers?: { name: string; args?: string[] }[];
}

/** Every container of a pod spec, init containers (native sidecars among them) first. */
export function specContainers(spec: PodSpecJson): PodSpecJson["containers"] {
  return [...(spec.initContainers ?? []), ...spec.containers];
}

interface PodJson {
  metadata: { name: string; deletionTimestamp?: string; annotations?: Record<string, string> };
  spec: PodSpecJson;
  status: {
    phase: string;
    podIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { name: string; ready: boolean }[];
    initContainerStatuses?: { name: string; ready: boolean }[];
  };
}

function summarize(pod: PodJson): PodSummary {
  const statuses = [
    ...(pod.status.initContainerStatuses ?? []).map((s) => ({ ...s, init: true })),
    ...(pod.status.containerStatuses ?? []).map((s) => ({ ...s, init: false })),
  ];
  const args = Object.fromEntries(specContainers(pod.spec).map((c) => [c.name, c.args ?? []]));
  return {
    name: pod.metadata.name,
    ip: pod.status.podIP ?? "",
    phase: pod.status.phase,
    ready: pod.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true,
    deleting: pod.metadata.deletionTimestamp !== undefined,
    containers: statuses.map((s) => ({ name: s.name, ready: s.ready, init: s.init })),
    args,
    annotations: pod.metadata.annotations ?? {},
  };
}

export interface DemoStack extends ClusterTools {
  readonly probe: Probe;
  /** What a failed step needs to be understood: every pod, recent events, the demo pods' logs. */
  diagnostics(): Promise<string>;
  pods(namespace: string, selector: string): Promise<PodSummary[]>;
  json<T>(args: readonly string[]): Promise<T>;
  close(): Promise<void>;
}

export async function connectDemoStack(kubeconfig: string): Promise<DemoStack> {
  const tools = clusterTools(kubeconfig);
  const { k } = tools;
  const json = async <T>(args: readonly string[]) => JSON.parse(await k([...args, "-o", "json"])) as T;
  // The probe runs in its own namespace (not opted in), on the demo API's image (it has node).
  await k(["create", "namespace", "apicache-probe"]).catch(() => undefined);
  const probe = await startProbe(kubeconfig, "apicache-probe", "apicache/demo-api:dev");
  return {
    ...tools,
    probe,
    json,
    pods: async (namespace, selector) =>
      (await json<{ items: PodJson[] }>(["-n", namespace, "get", "pods", "-l", selector])).items.map(
        summarize,
      ),
    diagnostics: async () => {
      const parts = [
        await k(["get", "pods", "-A", "-o", "wide"]).catch(String),
        await k(["get", "events", "-A", "--sort-by=.lastTimestamp"]).then(
          (text) => text.split("\n").slice(-30).join("\n"),
          String,
        ),
      ];
      const logs = (namespace: string, selector: string, container: string) =>
        k(["-n", namespace, "logs", "-l", selector, "-c", container, "--tail=40", "--prefix"]).catch(String);
      parts.push(await logs(demoNamespace, "app=demo-api", "demo-api"));
      parts.push(await logs(demoNamespace, "app=demo-api", "apicache-sidecar"));
      parts.push(await logs(systemNamespace, "app.kubernetes.io/component=operator", "operator"));
      return parts.join("\n---\n");
    },
    close: () => probe.close(),
  };
}

export async function leaseHolder(stack: DemoStack): Promise<string> {
  const lease = await stack.json<{ spec: { holderIdentity?: string } }>([
    "-n",
    systemNamespace,
    "get",
    "lease",
    leaseName,
  ]);
  return lease.spec.holderIdentity ?? "";
}
