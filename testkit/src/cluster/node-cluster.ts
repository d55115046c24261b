import { Resolver } from "node:dns/promises";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { apiGet, apiServerReady, etcdHealthy, waitUntilReady } from "../kube/control-plane.js";
import { KubeTestkitError } from "../kube/errors.js";
import type { AdminCredentials } from "../kube/kubeconfig.js";
import type { ProcessGroup } from "../kube/process-group.js";
import { repoRoot, requireTool, resolveToolPaths, type ToolPaths } from "../kube/tools.js";
import { freePort } from "../ports.js";
import { createCgroupRoot, processesInCgroupRoot, removeCgroupRoot } from "./cgroups.js";
import {
  type ComponentInputs,
  type ComponentName,
  type ComponentSpec,
  clusterComponents,
} from "./components.js";
import { requireRoot, run } from "./host.js";
import { recordKernelSettings, restoreKernelSettings } from "./kernel-settings.js";
import { type ClusterLayout, clusterLayout } from "./layout.js";
import {
  createNodeMountNamespace,
  mountNamespaceInode,
  removeNodeMountNamespace,
  runInNode,
} from "./mount-namespace.js";
import { createNodeNetwork, nodeNetnsPath, removeNodeNetwork } from "./network.js";
import { clusterComponentsFiles, containerdSocketInNode, kubeRelease } from "./node-config.js";
import { clusterPkiPaths, writeClusterPki } from "./pki-files.js";
import {
  componentLogTail,
  killUntilGone,
  processesInMountNamespace,
  runningPid,
  startComponent,
  stopComponent,
} from "./processes.js";

/**
 * A real single-node Kubernetes cluster on this machine: etcd, kube-apiserver, controller manager,
 * scheduler and the cluster DNS on the host; containerd + runc, kubelet (bridge CNI) and kube-proxy
 * (nftables) inside the node's own network and mount namespaces (layout.ts). `make cluster-up` /
 * `make cluster-down` and the cluster test tier use it; see docs/development.md.
 */
/** The developer cluster's state directory (`make cluster-up`, slot 0). */
export const defaultClusterDir: string = join(repoRoot, ".cache", "test-cluster");

export interface ClusterInfo {
  readonly dir: string;
  readonly slot: number;
  readonly kubeVersion: string;
  readonly kubeconfigPath: string;
  readonly apiServer: string;
  readonly containerdSocket: string;
  readonly pids: Readonly<Partial<Record<ComponentName, number>>>;
}

export interface ClusterUpOptions {
  readonly dir: string;
  readonly slot?: number;
  readonly tools?: ToolPaths;
  /** Kubernetes release of the components; default KUBE_VERSION or the pinned one. */
  readonly kubeVersion?: string;
  readonly progress?: (line: string) => void;
  /** Deadline for each component to become ready; default 180 s (a busy 2-core machine). */
  readonly startTimeoutMs?: number;
}

interface ClusterState {
  readonly slot: number;
  readonly kubeVersion: string;
  /** Host folders that `ip netns` and `mount` create on first use: removed again when empty. */
  readonly createdHostDirs: readonly string[];
}

const hostDirsWeMayCreate = ["/run/netns", "/run/mount"];

const stateFile = (dir: string) => join(dir, "cluster.json");

function readState(dir: string): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(dir), "utf8")) as ClusterState;
  } catch {
    return undefined;
  }
}

type Binaries = ComponentInputs["binaries"];

function toolBinaries(tools: ToolPaths): Binaries {
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
 * Binaries by name only: enough to recognise running processes (by basename), so that finding and
 * stopping a cluster never needs its tools to still be installed.
 */
const binariesByName: Binaries = {
  etcd: "etcd",
  "kube-apiserver": "kube-apiserver",
  "kube-controller-manager": "kube-controller-manager",
  "kube-scheduler": "kube-scheduler",
  kubelet: "kubelet",
  "kube-proxy": "kube-proxy",
  containerd: "containerd",
};

function specs(
  layout: ClusterLayout,
  kubeVersion: string,
  binaries: Binaries = binariesByName,
  etcdPorts = { etcdClient: 0, etcdPeer: 0 },
) {
  return clusterComponents({
    layout,
    binaries,
    dns: {
      node: process.execPath,
      args: ["--import", "tsx", join(repoRoot, "testkit", "src", "cluster", "cluster-dns-main.ts")],
    },
    etcdPorts,
    kubeVersion,
  });
}

export function sandboxImage(tools: ToolPaths): { ref: string; archive: string } {
  const pause = requireTool("pause", tools);
  const version = /pause-([0-9a-f]+)\//.exec(pause)?.[1] ?? "dev";
  return { ref: `docker.io/apicache/pause:${version}`, archive: join(pause, "..", "pause.oci.tar") };
}

/** The archives `make images` wrote (hack/images.sh), or an error that says to run it. */
export function imageArchives(imagesDir: string): string[] {
  const dir = join(imagesDir, "archives");
  const archives = existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => name.endsWith(".tar"))
        .map((name) => join(dir, name))
    : [];
  if (archives.length === 0) {
    throw new KubeTestkitError(
      "APICACHE_ERR_TOOL_MISSING",
      `no image archives in ${dir}: run \`make images\` (builds the sidecar, operator, demo API and Redis images)`,
    );
  }
  return archives.sort();
}

/** Import image archives (OCI or docker-archive tars) into the node's containerd, for its pods. */
export function importImages(layout: ClusterLayout, archives: readonly string[]): void {
  for (const archive of archives) {
    const result = runInNode(layout, nodeNetnsPath(layout), [
      "ctr",
      `--address=${containerdSocketInNode}`,
      "--namespace=k8s.io",
      "images",
      "import",
      archive,
    ]);
    if (result.code !== 0) {
      throw new KubeTestkitError(
        "APICACHE_ERR_CLUSTER_STATE",
        `importing ${archive} into the node's containerd failed: ${result.stderr.trim() || result.stdout.trim()}`,
      );
    }
  }
}

async function nodeReady(credentials: AdminCredentials, nodeName: string): Promise<boolean> {
  const res = await apiGet(credentials, `/api/v1/nodes/${nodeName}`);
  if (res.status !== 200) return false;
  const node = JSON.parse(res.body) as { status?: { conditions?: { type: string; status: string }[] } };
  return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;
}

async function dnsAnswers(layout: ClusterLayout): Promise<boolean> {
  const resolver = new Resolver({ timeout: 1_000, tries: 1 });
  resolver.setServers([`${layout.network.hostIp}:53`]);
  const addresses = await resolver.resolve4("kubernetes.default.svc.cluster.local");
  return addresses.includes(layout.network.kubernetesServiceIp);
}

/** The readiness probe of each component, in the order they start. */
function readiness(layout: ClusterLayout, credentials: AdminCredentials, etcdClient: number) {
  const ok = async (path: string) => (await apiGet(credentials, path)).status === 200;
  const probes: Record<ComponentName, () => Promise<boolean>> = {
    etcd: () => etcdHealthy(etcdClient),
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
    kubelet: () => nodeReady(credentials, layout.nodeName),
    "kube-proxy": async () =>
      runInNode(layout, nodeNetnsPath(layout), ["nft", "list", "table", "ip", "kube-proxy"]).stdout.includes(
        layout.network.kubernetesServiceIp,
      ),
  };
  return probes;
}

function writeConfigs(layout: ClusterLayout, kubeVersion: string, sandbox: string): void {
  const pki = clusterPkiPaths(layout);
  for (const [path, content] of clusterComponentsFiles(layout, pki, kubeRelease(kubeVersion), sandbox)) {
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, content);
  }
}

async function distinctPorts(): Promise<{ etcdClient: number; etcdPeer: number }> {
  const etcdClient = await freePort();
  let etcdPeer = await freePort();
  while (etcdPeer === etcdClient) etcdPeer = await freePort();
  return { etcdClient, etcdPeer };
}

async function startAll(
  layout: ClusterLayout,
  options: ClusterUpOptions & { readonly kubeVersion: string; readonly tools: ToolPaths },
): Promise<Partial<Record<ComponentName, number>>> {
  const say = options.progress ?? (() => undefined);
  const ports = await distinctPorts();
  const all = specs(layout, options.kubeVersion, toolBinaries(options.tools), ports);
  const credentials = writeClusterPki(layout);
  const sandbox = sandboxImage(options.tools);
  writeConfigs(layout, options.kubeVersion, sandbox.ref);
  say(
    `node network: namespace ${layout.network.netns}, ${layout.network.hostIp} ⇄ ${layout.network.nodeIp}, pods ${layout.network.podCidr}, services ${layout.network.serviceCidr}`,
  );
  createNodeNetwork(layout);
  createNodeMountNamespace(layout);
  createCgroupRoot(layout);
  recordKernelSettings();
  const probes = readiness(layout, credentials, ports.etcdClient);
  const pids: Partial<Record<ComponentName, number>> = {};
  for (const spec of all) {
    const started = Date.now();
    const proc: ProcessGroup = startComponent(layout, spec, repoRoot);
    pids[spec.name] = proc.pid;
    await waitUntilReady(proc, probes[spec.name], options.startTimeoutMs ?? 180_000);
    say(
      `${spec.name} ready in ${((Date.now() - started) / 1000).toFixed(1)}s (pid ${proc.pid}${spec.where === "node" ? ", inside the node" : ""})`,
    );
    if (spec.name === "containerd") importImages(layout, [sandbox.archive]);
  }
  return pids;
}

/** Start the cluster, unless it already runs (idempotent); a half-dead leftover is removed first. */
export async function clusterUp(options: ClusterUpOptions): Promise<ClusterInfo & { started: boolean }> {
  requireRoot();
  const status = await clusterStatus(options.dir);
  if (status !== undefined) return { ...status, started: false };
  await clusterDown(options.dir, options.slot);
  const tools = options.tools ?? resolveToolPaths();
  const kubeVersion = options.kubeVersion ?? /v1\.\d+\.\d+/.exec(tools["kube-apiserver"])?.[0] ?? "";
  const layout = clusterLayout(options.dir, options.slot ?? 0);
  for (const dir of [layout.paths.logs, layout.paths.pids, layout.paths.config])
    mkdirSync(dir, { recursive: true });
  const state: ClusterState = {
    slot: layout.slot,
    kubeVersion,
    createdHostDirs: hostDirsWeMayCreate.filter((path) => !existsSync(path)),
  };
  writeFileSync(stateFile(options.dir), `${JSON.stringify(state)}\n`);
  try {
    const pids = await startAll(layout, { ...options, tools, kubeVersion });
    return { ...info(layout, kubeVersion, pids), started: true };
  } catch (error) {
    await clusterDown(options.dir).catch(() => undefined);
    throw error;
  }
}

function info(layout: ClusterLayout, kubeVersion: string, pids: ClusterInfo["pids"]): ClusterInfo {
  return {
    dir: layout.dir,
    slot: layout.slot,
    kubeVersion,
    kubeconfigPath: layout.paths.kubeconfig,
    apiServer: `https://${layout.network.hostIp}:${layout.network.apiServerPort}`,
    containerdSocket: layout.paths.containerdSocket,
    pids,
  };
}

/** The running cluster in `dir`, or undefined when any of its processes is gone or the node not Ready. */
export async function clusterStatus(dir: string): Promise<ClusterInfo | undefined> {
  const state = readState(dir);
  if (state === undefined) return undefined;
  const layout = clusterLayout(dir, state.slot);
  const pids: Partial<Record<ComponentName, number>> = {};
  for (const spec of specs(layout, state.kubeVersion)) {
    const pid = runningPid(layout, spec);
    if (pid === undefined) return undefined;
    pids[spec.name] = pid;
  }
  try {
    if (!(await nodeReady(adminCredentials(layout), layout.nodeName))) return undefined;
  } catch {
    return undefined;
  }
  return info(layout, state.kubeVersion, pids);
}

function adminCredentials(layout: ClusterLayout): AdminCredentials {
  const kubeconfig = readFileSync(layout.paths.kubeconfig, "utf8");
  const field = (name: string) => {
    const value = new RegExp(`${name}:\\s*(\\S+)`).exec(kubeconfig)?.[1];
    if (value === undefined)
      throw new KubeTestkitError("APICACHE_ERR_CLUSTER_STATE", `no ${name} in ${layout.paths.kubeconfig}`);
    return Buffer.from(value, "base64").toString("utf8");
  };
  return {
    server: /server:\s*(\S+)/.exec(kubeconfig)?.[1] ?? "",
    caPem: field("certificate-authority-data"),
    certPem: field("client-certificate-data"),
    keyPem: field("client-key-data"),
  };
}

/**
 * Stop everything and leave the host as it was: no process, mount, cgroup, namespace, link, route or
 * node directory left (the logs stay, in `<dir>/logs`). Idempotent; `slot` is used when the state file
 * is gone.
 */
export async function clusterDown(dir: string, slot = 0): Promise<{ stopped: ComponentName[] }> {
  requireRoot();
  const state = readState(dir);
  const layout = clusterLayout(dir, state?.slot ?? slot);
  const all = specs(layout, state?.kubeVersion ?? "v1.0.0");
  const byName = (name: ComponentName) => all.find((spec) => spec.name === name) as ComponentSpec;
  const stopped: ComponentName[] = [];
  const stop = async (name: ComponentName) => {
    if (runningPid(layout, byName(name)) !== undefined) stopped.push(name);
    await stopComponent(layout, byName(name));
  };
  await stop("kube-proxy");
  await stop("kubelet");
  // Containers (and the pods' sandboxes) live in the kubelet's cgroups; their shims in the mount namespace.
  await killUntilGone("the node's containers", () => processesInCgroupRoot(layout));
  await stop("containerd");
  const inode = mountNamespaceInode(layout);
  if (inode !== undefined)
    await killUntilGone("the node's processes", () => processesInMountNamespace(inode));
  removeNodeMountNamespace(layout);
  await waitForEmptyCgroups(layout);
  const lastNode = removeNodeNetwork(layout);
  if (lastNode) restoreKernelSettings();
  for (const name of [
    "cluster-dns",
    "kube-scheduler",
    "kube-controller-manager",
    "kube-apiserver",
    "etcd",
  ] as const) {
    await stop(name);
  }
  for (const path of [
    layout.paths.nodeRoot,
    layout.paths.mountNsDir,
    layout.paths.etcdData,
    layout.paths.pids,
    stateFile(dir),
  ]) {
    rmSync(path, { recursive: true, force: true });
  }
  for (const path of state?.createdHostDirs ?? []) removeIfEmpty(path);
  return { stopped };
}

/** Remove a host folder we created, once empty (`ip netns` also made /run/netns a mount point). */
function removeIfEmpty(path: string): void {
  try {
    if (readdirSync(path).length > 0) return;
    if (readFileSync("/proc/self/mountinfo", "utf8").includes(` ${path} ${path} `)) run("umount", [path]);
    rmdirSync(path);
  } catch {
    // Already gone.
  }
}

async function waitForEmptyCgroups(layout: ClusterLayout): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const left = removeCgroupRoot(layout);
    if (left.length === 0) return;
    if (Date.now() > deadline) {
      throw new KubeTestkitError(
        "APICACHE_ERR_CLUSTER_STATE",
        `cgroups still busy after 20 s: ${left.join(", ")}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function clusterLogTail(dir: string, name: ComponentName): string {
  const state = readState(dir);
  const layout = clusterLayout(dir, state?.slot ?? 0);
  return existsSync(layout.paths.logs)
    ? componentLogTail(layout, { name, where: "host", command: "", args: [] })
    : "";
}
