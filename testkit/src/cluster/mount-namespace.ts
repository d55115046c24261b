import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { must, run } from "./host.js";
import { type ClusterLayout, nodeBindMounts, nodeBindSource } from "./layout.js";

/**
 * The node's mount namespace: the node's daemons (containerd, kubelet, kube-proxy) and everything they
 * mount — container root filesystems, pod volumes, pod network namespaces — live in it, with /var/lib,
 * /run and /var/log bound to folders of the cluster's state directory. Nothing the node mounts is
 * visible on the host, and all of it goes when the namespace does. The namespace is kept alive by a
 * bind mount of its nsfs file (like `ip netns`), which needs a parent mount with private propagation.
 */
function mountPoints(): Set<string> {
  return new Set(
    readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .map((line) => line.split(" ")[4])
      .filter((point): point is string => point !== undefined && point !== ""),
  );
}

export function mountNamespaceExists(layout: ClusterLayout): boolean {
  return mountPoints().has(layout.paths.mountNs);
}

/** The inode that names the node's mount namespace (as in /proc/<pid>/ns/mnt → mnt:[inode]). */
export function mountNamespaceInode(layout: ClusterLayout): number | undefined {
  return mountNamespaceExists(layout) ? statSync(layout.paths.mountNs).ino : undefined;
}

export function createNodeMountNamespace(layout: ClusterLayout): void {
  const { mountNsDir, mountNs } = layout.paths;
  mkdirSync(mountNsDir, { recursive: true });
  if (!mountPoints().has(mountNsDir)) {
    must("mount", ["--bind", mountNsDir, mountNsDir]);
    must("mount", ["--make-private", mountNsDir]);
  }
  writeFileSync(mountNs, "");
  must("unshare", [`--mount=${mountNs}`, "--propagation", "private", "true"]);
  for (const target of nodeBindMounts) {
    const source = nodeBindSource(layout, target);
    mkdirSync(source, { recursive: true });
    must("nsenter", [`--mount=${mountNs}`, "--", "mount", "--bind", source, target]);
  }
}

/** Drop the namespace's anchor; it ends (and every mount in it) once no process is left inside. */
export function removeNodeMountNamespace(layout: ClusterLayout): void {
  const { mountNsDir, mountNs } = layout.paths;
  const points = mountPoints();
  if (points.has(mountNs)) must("umount", [mountNs]);
  if (points.has(mountNsDir)) must("umount", [mountNsDir]);
}

/** Run a command inside the node (its network and mount namespaces), e.g. `ctr` or `nft`. */
export function runInNode(layout: ClusterLayout, netns: string, command: readonly string[], input?: string) {
  return run("nsenter", [`--net=${netns}`, `--mount=${layout.paths.mountNs}`, "--", ...command], input);
}
