import { KubeTestkitError } from "../kube/errors.js";
import { createCgroupRoot, processesInCgroupRoot, removeCgroupRoot } from "./cgroups.js";
import { componentSpecs } from "./component-specs.js";
import type { ComponentName, ComponentSpec } from "./components.js";
import { run } from "./host.js";
import { recordHostDirs } from "./host-dirs.js";
import { recordKernelSettings } from "./kernel-settings.js";
import type { ClusterLayout } from "./layout.js";
import {
  createNodeMountNamespace,
  mountNamespaceExists,
  mountNamespaceInode,
  removeNodeMountNamespace,
} from "./mount-namespace.js";
import { createNodeNetwork, netnsExists, removeNodeNetwork } from "./network.js";
import { killUntilGone, processesInMountNamespace, runningPid, stopComponent } from "./processes.js";

/**
 * What the node's daemons run in — its network namespace (with the veth pair, bridge and firewall),
 * its mount namespace and its cgroup root — made before they start, and the node (daemons,
 * containers, shims, namespaces, cgroups) taken down again.
 */
export async function stopComponents(layout: ClusterLayout, names: readonly ComponentName[]) {
  const specs = componentSpecs(layout);
  const stopped: ComponentName[] = [];
  for (const name of names) {
    const spec = specs.find((candidate) => candidate.name === name) as ComponentSpec;
    if (runningPid(layout, spec) !== undefined) stopped.push(name);
    await stopComponent(layout, spec);
  }
  return stopped;
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

/**
 * Stop the node's daemons, kill what is left in the kubelet's cgroups (containers) and in the node's
 * mount namespace (containerd's shims), drop the namespace's anchor and remove the cgroups. The
 * network namespace stays (removeNodeNetwork). Returns the daemons that were running.
 */
export async function stopNode(layout: ClusterLayout): Promise<ComponentName[]> {
  const stopped = await stopComponents(layout, ["kube-proxy", "kubelet"]);
  // Containers (and the pods' sandboxes) live in the kubelet's cgroups; their shims in the mount namespace.
  await killUntilGone("the node's containers", () => processesInCgroupRoot(layout));
  stopped.push(...(await stopComponents(layout, ["containerd"])));
  const inode = mountNamespaceInode(layout);
  if (inode !== undefined)
    await killUntilGone("the node's processes", () => processesInMountNamespace(inode));
  removeNodeMountNamespace(layout);
  await waitForEmptyCgroups(layout);
  return stopped;
}

const hostLinkExists = (layout: ClusterLayout): boolean =>
  run("ip", ["link", "show", "dev", layout.network.hostLink]).code === 0;

/** The node's network namespace (with its link to the host) and mount namespace are there. */
export function nodeInfraIntact(layout: ClusterLayout): boolean {
  return netnsExists(layout) && hostLinkExists(layout) && mountNamespaceExists(layout);
}

/**
 * Make sure the node's namespaces and cgroup root exist. When either namespace is missing (a fresh
 * cluster, or one whose node did not survive, e.g. a reboot) the node's daemons still running cannot
 * stay: they are stopped (returned) and the node is made anew. The host-wide records (kernel settings,
 * host folders) are taken first, if this is the first cluster.
 */
export async function ensureNodeInfra(layout: ClusterLayout): Promise<ComponentName[]> {
  recordHostDirs();
  recordKernelSettings();
  let stopped: ComponentName[] = [];
  if (!nodeInfraIntact(layout)) {
    stopped = await stopNode(layout);
    removeNodeNetwork(layout);
    createNodeNetwork(layout);
    createNodeMountNamespace(layout);
  }
  createCgroupRoot(layout);
  return stopped;
}
