import { Resolver } from "node:dns/promises";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { apiGet, apiServerReady, etcdHealthy, waitUntilReady } from "../kube/control-plane.js";
import { KubeTestkitError } from "../kube/errors.js";
import type { AdminCredentials } from "../kube/kubeconfig.js";
import { repoRoot, requireTool, type ToolPaths } from "../kube/tools.js";
import { freePort } from "../ports.js";
import { waitFor } from "../wait.js";
import { type Binaries, componentSpecs } from "./component-specs.js";
import type { ComponentName, ComponentSpec } from "./components.js";
import { run } from "./host.js";
import type { ClusterLayout } from "./layout.js";
import { runInNode } from "./mount-namespace.js";
import { nodeNetnsPath } from "./network.js";
import { clusterComponentsFiles, containerdSocketInNode, kubeRelease } from "./node-config.js";
import { importImages } from "./node-images.js";
import { clusterPkiPaths } from "./pki-files.js";
import { componentLogTail, runningPid, runsComponent, startComponent } from "./processes.js";

/**
 * Bringing the components up in order: each one that does not run is started, each one that runs is
 * left alone; either way the next starts only once this one answers its readiness probe.
 */
export function toolBinaries(tools: ToolPaths): Binaries {
  const containerd = run("sh", ["-c", "command -v containerd"]).stdout.trim();
  if (containerd === "") {
    throw new KubeTestkitError(
      "APICACHE_ERR_TOOL_MISSING",
      "containerd is not installed: run `make tools` (it installs the node's Debian packages)",
    );
  }
  return {
    etcd: requireTool("etcd", tools),
    "kube-apiserver": requireTool("kube-apiserver", tools),
    "kube-controller-manager": requireTool("kube-controller-manager", tools),
    "kube-scheduler": requireTool("kube-scheduler", tools),
    kubelet: requireTool("kubelet", tools),
    "kube-proxy": requireTool("kube-proxy", tools),
    containerd,
  };
}

/**
 * The node is Ready; with `since` (a kubelet just started), as reported by that kubelet: a heartbeat
 * at or after `since` (whole seconds), not the Ready left over from the one before.
 */
export async function nodeReady(
  credentials: AdminCredentials,
  nodeName: string,
  since = 0,
): Promise<boolean> {
  const res = await apiGet(credentials, `/api/v1/nodes/${nodeName}`);
  if (res.status !== 200) return false;
  type Condition = { type: string; status: string; lastHeartbeatTime?: string };
  const node = JSON.parse(res.body) as { status?: { conditions?: Condition[] } };
  const ready = node.status?.conditions?.find((c) => c.type === "Ready");
  if (ready?.status !== "True") return false;
  return since === 0 || Date.parse(ready.lastHeartbeatTime ?? "") >= Math.floor(since / 1000) * 1000;
}

async function dnsAnswers(layout: ClusterLayout): Promise<boolean> {
  const resolver = new Resolver({ timeout: 1_000, tries: 1 });
  resolver.setServers([`${layout.network.hostIp}:53`]);
  const addresses = await resolver.resolve4("kubernetes.default.svc.cluster.local");
  return addresses.includes(layout.network.kubernetesServiceIp);
}

/** The readiness probe of each component, in the order they start. */
function readiness(layout: ClusterLayout, credentials: AdminCredentials, etcdClient: number | undefined) {
  const ok = async (path: string) => (await apiGet(credentials, path)).status === 200;
  const probes: Record<ComponentName, (since: number) => Promise<boolean>> = {
    // Without its port, the API server's readiness (which includes etcd's) is the check.
    etcd: async () => etcdClient === undefined || etcdHealthy(etcdClient),
    "kube-apiserver": () => apiServerReady(credentials),
    containerd: async () =>
      runInNode(layout, nodeNetnsPath(layout), ["ctr", `--address=${containerdSocketInNode}`, "version"])
        .code === 0,
    // The controller manager creates every namespace's default ServiceAccount and kube-root-ca.crt.
    "kube-controller-manager": async () =>
      (await ok("/api/v1/namespaces/default/serviceaccounts/default")) &&
      (await ok("/api/v1/namespaces/default/configmaps/kube-root-ca.crt")),
    // No port to ask (--secure-port=0); the first pod the tests schedule shows it works.
    "kube-scheduler": async () => true,
    "cluster-dns": () => dnsAnswers(layout),
    kubelet: (since) => nodeReady(credentials, layout.nodeName, since),
    "kube-proxy": async () =>
      runInNode(layout, nodeNetnsPath(layout), ["nft", "list", "table", "ip", "kube-proxy"]).stdout.includes(
        layout.network.kubernetesServiceIp,
      ),
  };
  return probes;
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/**
 * The configuration files, rendered for the node's (kubelet's) release and the sandbox image. A file
 * whose content is unchanged is not written: kube-proxy exits when its file is touched.
 */
export function writeConfigs(layout: ClusterLayout, kubeletVersion: string, sandbox: string): void {
  const pki = clusterPkiPaths(layout);
  for (const [path, content] of clusterComponentsFiles(layout, pki, kubeRelease(kubeletVersion), sandbox)) {
    if (readOrEmpty(path) === content) continue;
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, content);
  }
}

export async function distinctPorts(): Promise<{ etcdClient: number; etcdPeer: number }> {
  const etcdClient = await freePort();
  let etcdPeer = await freePort();
  while (etcdPeer === etcdClient) etcdPeer = await freePort();
  return { etcdClient, etcdPeer };
}

export interface BringUpOptions {
  readonly layout: ClusterLayout;
  readonly credentials: AdminCredentials;
  /** Unknown only for a cluster from before they were recorded, whose etcd and API server both run. */
  readonly etcdPorts: { readonly etcdClient: number; readonly etcdPeer: number } | undefined;
  /**
   * The binaries and the sandbox image (imported whenever containerd starts): asked for only when some
   * component must be started, so that waiting for a running cluster needs no tools.
   */
  readonly tools: () => { readonly binaries: Binaries; readonly sandboxArchive: string };
  readonly timeoutMs: number;
  readonly say: (line: string) => void;
}

/** Wait for a component that already runs, failing at once if it exits meanwhile. */
async function waitForRunning(
  spec: ComponentSpec,
  pid: number,
  ready: () => Promise<boolean>,
  options: BringUpOptions,
) {
  if (await ready().catch(() => false)) return;
  options.say(
    `${spec.name} (pid ${pid}) runs but is not ready yet: waiting for it (up to ${options.timeoutMs / 1000} s), changing nothing`,
  );
  const state = await waitFor(
    `${spec.name} (pid ${pid}, already running) to be ready`,
    async () => (!runsComponent(pid, spec) ? "exited" : (await ready().catch(() => false)) && "ready"),
    { timeoutMs: options.timeoutMs, intervalMs: 200 },
  ).catch((error: Error) => error);
  if (state === "ready") return;
  const reason =
    state === "exited" ? `exited while we waited for it` : `is not ready after ${options.timeoutMs / 1000} s`;
  throw new KubeTestkitError(
    "APICACHE_ERR_TIMEOUT",
    `the cluster in ${options.layout.dir} was running, but ${spec.name} (pid ${pid}) ${reason}; it was left ` +
      `as it is (nothing restarted, nothing removed): run \`up\` again, or \`down\` to remove it. ` +
      `${spec.name}'s log:\n${componentLogTail(options.layout, spec)}`,
  );
}

/**
 * Every component in order: started when it does not run, waited for either way. Returns the pids and
 * the components it started. Nothing that runs is stopped or restarted.
 */
export async function bringUp(options: BringUpOptions) {
  const { layout, say } = options;
  const ports = options.etcdPorts === undefined ? {} : { etcdPorts: options.etcdPorts };
  const specs = componentSpecs(layout, ports);
  let tools: ReturnType<BringUpOptions["tools"]> | undefined;
  const probes = readiness(layout, options.credentials, options.etcdPorts?.etcdClient);
  const pids: Partial<Record<ComponentName, number>> = {};
  const started: ComponentName[] = [];
  for (const spec of specs) {
    const since = Date.now();
    const pid = runningPid(layout, spec);
    if (pid !== undefined) {
      await waitForRunning(spec, pid, () => probes[spec.name](0), options);
      pids[spec.name] = pid;
      continue;
    }
    tools ??= options.tools();
    const binaries = { ...ports, binaries: tools.binaries };
    const real = componentSpecs(layout, binaries).find((candidate) => candidate.name === spec.name) ?? spec;
    const proc = startComponent(layout, real, repoRoot);
    pids[spec.name] = proc.pid;
    started.push(spec.name);
    await waitUntilReady(proc, () => probes[spec.name](since), options.timeoutMs);
    const where = spec.where === "node" ? ", inside the node" : "";
    say(`${spec.name} ready in ${((Date.now() - since) / 1000).toFixed(1)}s (pid ${proc.pid}${where})`);
    if (spec.name === "containerd") importImages(layout, [tools.sandboxArchive]);
  }
  return { pids, started };
}
