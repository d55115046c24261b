import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { KubeTestkitError } from "../kube/errors.js";
import { repoRoot, resolveToolPaths, type ToolPaths } from "../kube/tools.js";
import { bringUp, distinctPorts, nodeReady, toolBinaries, writeConfigs } from "./cluster-start.js";
import { type ClusterState, readClusterState, stateFile, writeClusterState } from "./cluster-state.js";
import { componentSpecs, runningComponents } from "./component-specs.js";
import type { ComponentName } from "./components.js";
import { requireRoot } from "./host.js";
import { restoreHostDirs } from "./host-dirs.js";
import { restoreKernelSettings } from "./kernel-settings.js";
import { kubeComponentVersions } from "./kube-version.js";
import { type ClusterLayout, clusterLayout } from "./layout.js";
import { removeNodeNetwork } from "./network.js";
import { sandboxImage } from "./node-images.js";
import { ensureNodeInfra, nodeInfraIntact, stopComponents, stopNode } from "./node-infra.js";
import { readAdminCredentials, writeClusterPki } from "./pki-files.js";
import { claimSlot, refuseTakenSlot, releaseSlot, slotOwnedBy } from "./slot-owner.js";

/**
 * A real single-node Kubernetes cluster on this machine: etcd, kube-apiserver, controller manager,
 * scheduler and the cluster DNS on the host; containerd + runc, kubelet (bridge CNI) and kube-proxy
 * (nftables) inside the node's own network and mount namespaces (layout.ts). `make cluster-up` /
 * `make cluster-down` and the cluster test tier use it; see docs/development.md.
 *
 * `up` never removes a cluster's data: a running cluster is waited for, a partly running one gets its
 * missing components started. Only `down` removes. A slot belongs to one state directory at a time
 * (slot-owner.ts).
 */
/** The developer cluster's state directory (`make cluster-up`, slot 0). */
export const defaultClusterDir: string = join(repoRoot, ".cache", "test-cluster");

export { imageArchives, importImages } from "./node-images.js";

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
  /** Default: the slot the directory's cluster was made for, else 0. */
  readonly slot?: number;
  readonly tools?: ToolPaths;
  readonly progress?: (line: string) => void;
  /** Deadline for each component to become ready; default 180 s (a busy 2-core machine). */
  readonly startTimeoutMs?: number;
}

export interface ClusterUpResult extends ClusterInfo {
  /** A new cluster was made (false: one was there and kept). */
  readonly started: boolean;
  /** Components of a kept cluster that were not running and were started. */
  readonly restarted: readonly ComponentName[];
}

type Say = (line: string) => void;
const quiet: Say = () => undefined;

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

/** Tools, their releases (asked, and checked for skew) and the sandbox image: all before anything changes. */
function checkedTools(tools: ToolPaths = resolveToolPaths()) {
  const binaries = toolBinaries(tools);
  const sandbox = sandboxImage(tools);
  const versions = kubeComponentVersions(binaries);
  return { binaries, versions, sandbox, forBringUp: () => ({ binaries, sandboxArchive: sandbox.archive }) };
}

/** Start the cluster, or keep the one that is there: see the module's comment. */
export async function clusterUp(options: ClusterUpOptions): Promise<ClusterUpResult> {
  requireRoot();
  const say = options.progress ?? quiet;
  const read = readClusterState(options.dir);
  if (read.kind === "valid") return keepCluster(options, read.state, say);
  if (read.kind === "invalid") {
    const running = Object.keys(runningComponents(clusterLayout(options.dir, 0)));
    if (running.length > 0) {
      throw new KubeTestkitError(
        "APICACHE_ERR_CLUSTER_STATE",
        `${stateFile(options.dir)} is unusable (${read.problem}) while the cluster's ${running.join(", ")} ` +
          `run: nothing was changed. \`down --dir ${options.dir}\` stops them (it copes without the file), then \`up\``,
      );
    }
    say(`${stateFile(options.dir)} was unusable (${read.problem}) and nothing of it runs: starting afresh`);
  }
  return newCluster(options, say);
}

async function newCluster(options: ClusterUpOptions, say: Say): Promise<ClusterUpResult> {
  const layout = clusterLayout(options.dir, options.slot ?? 0);
  const { versions, sandbox, forBringUp } = checkedTools(options.tools);
  // Refuses (changing nothing) a slot another live cluster holds; then this directory's leftovers go.
  await takeOverStaleSlot(layout.slot, layout.dir, say);
  await clusterDown(layout.dir, layout.slot, say);
  claimSlot(layout.slot, layout.dir, true);
  for (const dir of [layout.paths.logs, layout.paths.pids, layout.paths.config])
    mkdirSync(dir, { recursive: true });
  const etcdPorts = await distinctPorts();
  const kubeVersion = versions["kube-apiserver"];
  writeClusterState(layout.dir, { slot: layout.slot, kubeVersion, etcdPorts });
  try {
    const credentials = writeClusterPki(layout);
    writeConfigs(layout, versions.kubelet, sandbox.ref);
    const net = layout.network;
    say(
      `node network: namespace ${net.netns}, ${net.hostIp} ⇄ ${net.nodeIp}, pods ${net.podCidr}, services ${net.serviceCidr}`,
    );
    await ensureNodeInfra(layout);
    const { pids } = await bringUp({
      layout,
      credentials,
      etcdPorts,
      tools: forBringUp,
      timeoutMs: options.startTimeoutMs ?? 180_000,
      say,
    });
    claimSlot(layout.slot, layout.dir, false);
    return { ...info(layout, kubeVersion, pids), started: true, restarted: [] };
  } catch (error) {
    await clusterDown(layout.dir, layout.slot).catch(() => undefined);
    throw error;
  }
}

/** etcd's ports for a cluster whose file predates them: new ones only if neither etcd nor the API server runs. */
async function etcdPortsFor(state: ClusterState, dead: readonly ComponentName[], dir: string) {
  if (state.etcdPorts !== undefined || !(dead.includes("etcd") || dead.includes("kube-apiserver")))
    return state.etcdPorts;
  if (!(dead.includes("etcd") && dead.includes("kube-apiserver"))) {
    throw new KubeTestkitError(
      "APICACHE_ERR_CLUSTER_STATE",
      `${stateFile(dir)} does not say which ports etcd uses (an older file), so ${dead.join(", ")} cannot be ` +
        `started next to the running rest: \`down --dir ${dir}\`, then \`up\``,
    );
  }
  return distinctPorts();
}

/** The directory's cluster exists: wait for what runs, start what does not; never remove anything. */
async function keepCluster(
  options: ClusterUpOptions,
  state: ClusterState,
  say: Say,
): Promise<ClusterUpResult> {
  const { dir } = options;
  if (options.slot !== undefined && options.slot !== state.slot) {
    throw new KubeTestkitError(
      "APICACHE_ERR_CLUSTER_STATE",
      `the cluster in ${dir} was made for slot ${state.slot}, not ${options.slot}: \`up --slot ${state.slot}\` ` +
        `keeps it (and its data), \`down --dir ${dir}\` removes it`,
    );
  }
  const layout = clusterLayout(dir, state.slot);
  await takeOverStaleSlot(layout.slot, dir, say);
  const running = runningComponents(layout);
  const dead = componentSpecs(layout)
    .map((spec) => spec.name)
    .filter((name) => running[name] === undefined);
  const base = {
    layout,
    credentials: readAdminCredentials(layout),
    timeoutMs: options.startTimeoutMs ?? 180_000,
    say,
  };
  if (dead.length === 0 && nodeInfraIntact(layout)) {
    // Tools only if a component dies meanwhile.
    const tools = () => checkedTools(options.tools).forBringUp();
    const { pids, started } = await bringUp({ ...base, etcdPorts: state.etcdPorts, tools });
    claimSlot(layout.slot, dir, false);
    return { ...info(layout, state.kubeVersion, pids), started: false, restarted: started };
  }
  say(
    dead.length > 0
      ? `the cluster in ${dir} runs without ${dead.join(", ")}: starting them, keeping the rest and etcd's data`
      : `the node of the cluster in ${dir} lost its namespaces: making it anew, keeping the control plane and etcd's data`,
  );
  const { versions, sandbox, forBringUp } = checkedTools(options.tools);
  const etcdPorts = await etcdPortsFor(state, dead, dir);
  const kubeVersion = dead.includes("kube-apiserver") ? versions["kube-apiserver"] : state.kubeVersion;
  claimSlot(layout.slot, dir, true);
  writeClusterState(dir, { ...state, kubeVersion, ...(etcdPorts === undefined ? {} : { etcdPorts }) });
  writeConfigs(layout, versions.kubelet, sandbox.ref);
  await ensureNodeInfra(layout);
  const up = await bringUp({ ...base, etcdPorts, tools: forBringUp });
  claimSlot(layout.slot, dir, false);
  return { ...info(layout, kubeVersion, up.pids), started: false, restarted: up.started };
}

/** The running cluster in `dir`, or undefined when any of its processes is gone, the node not Ready, or its file unusable. */
export async function clusterStatus(dir: string): Promise<ClusterInfo | undefined> {
  const read = readClusterState(dir);
  if (read.kind !== "valid") return undefined;
  const layout = clusterLayout(dir, read.state.slot);
  const pids = runningComponents(layout);
  if (componentSpecs(layout).some((spec) => pids[spec.name] === undefined)) return undefined;
  try {
    if (!(await nodeReady(readAdminCredentials(layout), layout.nodeName))) return undefined;
  } catch {
    return undefined;
  }
  return info(layout, read.state.kubeVersion, pids);
}

/**
 * Refuse (changing nothing) a slot another directory's live cluster holds; when the directory holding
 * it has nothing running any more, remove its leftovers so that the slot can be taken over.
 */
async function takeOverStaleSlot(slot: number, dir: string, say: Say): Promise<void> {
  const { claim, owner } = refuseTakenSlot(slot, dir);
  if (claim !== "stale" || owner === undefined) return;
  say(`slot ${slot} was held by ${owner}, none of whose processes runs: removing its leftovers`);
  await clusterDown(owner, slot, say);
  releaseSlot(slot, owner);
}

/**
 * Stop everything and leave the host as it was: no process, mount, cgroup, namespace, link, route or
 * node directory left (the logs stay, in `<dir>/logs`). Idempotent. The slot comes from the
 * directory's cluster.json, else the host's slot records, else `slot`; a cluster.json that is
 * unusable is removed with the rest. Refuses a slot another directory's live cluster holds.
 */
export async function clusterDown(
  dir: string,
  slot = 0,
  say: Say = quiet,
): Promise<{ stopped: ComponentName[] }> {
  requireRoot();
  const read = readClusterState(dir);
  const layout = clusterLayout(dir, read.kind === "valid" ? read.state.slot : (slotOwnedBy(dir) ?? slot));
  await takeOverStaleSlot(layout.slot, dir, say);
  const stopped = await stopNode(layout);
  const lastNode = removeNodeNetwork(layout);
  if (lastNode) restoreKernelSettings();
  const hostSide = [
    "cluster-dns",
    "kube-scheduler",
    "kube-controller-manager",
    "kube-apiserver",
    "etcd",
  ] as const;
  stopped.push(...(await stopComponents(layout, hostSide)));
  for (const path of [
    layout.paths.nodeRoot,
    layout.paths.mountNsDir,
    layout.paths.etcdData,
    layout.paths.pids,
    stateFile(dir),
  ]) {
    rmSync(path, { recursive: true, force: true });
  }
  // The last cluster of the host (every node namespace gone): the folders the first one made go too.
  if (lastNode) restoreHostDirs();
  releaseSlot(layout.slot, dir);
  return { stopped };
}
