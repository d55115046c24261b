import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { run } from "./host.js";
import { readKernelSettings } from "./kernel-settings.js";
import type { ClusterLayout } from "./layout.js";
import { mountNamespaceInode } from "./mount-namespace.js";

/**
 * What a test cluster could leave behind on the host, read the same way before `cluster-up` and after
 * `cluster-down` so that a test can compare the two: processes of the node's kinds, mounts, cgroups,
 * network namespaces, links, addresses and routes, nftables tables, kernel settings, the folders
 * where kubelets, containerd and the controller manager keep state by default, and the clusters'
 * records in /run.
 */
export interface HostSnapshot {
  readonly processes: readonly string[];
  readonly mounts: readonly string[];
  readonly cgroups: readonly string[];
  readonly netns: readonly string[];
  readonly links: readonly string[];
  readonly routes: readonly string[];
  readonly nftTables: readonly string[];
  readonly settings: Readonly<Record<string, string>>;
  readonly paths: readonly string[];
}

/** Process names as /proc/<pid>/comm has them (cut at 15 characters). */
const nodeProcessNames = new Set([
  "containerd",
  "containerd-shim",
  "runc",
  "kubelet",
  "kube-proxy",
  "kube-apiserver",
  "kube-controller",
  "kube-scheduler",
  "etcd",
  "pause",
]);

/**
 * Folders a node creates when nothing redirects it (its mount namespace does, so none may appear), and
 * two the cluster's own settings redirect: the controller manager's FlexVolume folder
 * (/usr/libexec/kubernetes, --flex-volume-plugin-dir) and containerd's opt plugin (/opt/containerd).
 */
const statePaths = [
  "/var/lib/kubelet",
  "/var/lib/containerd",
  "/var/lib/cni",
  "/run/containerd",
  "/var/run/netns",
  "/run/mount",
  "/var/log/pods",
  "/var/log/containers",
  "/etc/cni",
  "/opt/cni",
  "/etc/kubernetes",
  "/usr/libexec/kubernetes",
  "/opt/containerd",
];

/** The host-wide records test clusters keep in /run (kernel settings, host folders, slot owners). */
function clusterRecords(): string[] {
  return readdirSync("/run")
    .filter((name) => name.startsWith("apicache-test-cluster-"))
    .map((name) => `/run/${name}`);
}

function lines(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .sort();
}

/** Does the process belong to one of the other clusters' nodes (its pods, or its node's daemons)? */
function inOtherNode(pid: string, others: readonly ClusterLayout[]): boolean {
  if (others.length === 0) return false;
  const cgroups = readFileSync(`/proc/${pid}/cgroup`, "utf8");
  const mountNs = readlinkSync(`/proc/${pid}/ns/mnt`);
  return others.some(
    (layout) =>
      cgroups.includes(`:${layout.cgroupRoot}/`) || mountNs === `mnt:[${mountNamespaceInode(layout) ?? -1}]`,
  );
}

/**
 * etcd and kube-apiserver of envtest-style control planes (testkit/src/kube/control-plane.ts), which
 * the e2e tier and the operator bench start in temp folders (apicache-e2e-*, apicache-bench-*) and stop
 * on their own — other test runs on a shared machine do, meanwhile. They are no cluster's.
 */
const controlPlaneFolder = /\/apicache-(e2e|bench)-[^/]+\//;

function isOtherControlPlane(pid: string): boolean {
  return controlPlaneFolder.test(readFileSync(`/proc/${pid}/cmdline`, "utf8"));
}

function processes(others: readonly ClusterLayout[]): string[] {
  const found: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, "utf8").trim();
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const zombie = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z";
      if (nodeProcessNames.has(comm) && !zombie && !inOtherNode(entry, others) && !isOtherControlPlane(entry))
        found.push(`${comm} ${entry}`);
    } catch {
      // Gone meanwhile.
    }
  }
  return found.sort();
}

function cgroups(): string[] {
  return lines(
    readdirSync("/sys/fs/cgroup")
      .flatMap((hierarchy) => {
        try {
          return readdirSync(`/sys/fs/cgroup/${hierarchy}`)
            .filter((name) => name.startsWith("apicache") || name === "kubepods")
            .map((name) => `${hierarchy}/${name}`);
        } catch {
          return [];
        }
      })
      .join("\n"),
  );
}

/** Mount points with their type; image builders' own storage (buildah, podman) is not the cluster's. */
function mounts(): string[] {
  return lines(
    readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .map((line) => `${line.split(" ")[4] ?? ""} ${line.split(" - ")[1]?.split(" ")[0] ?? ""}`)
      .filter((mount) => !/^\/(var\/lib|run)\/containers\//.test(mount))
      .join("\n"),
  );
}

/**
 * `others`: clusters that keep running meanwhile (another slot): their pods and node daemons come and
 * go on their own and are left out; their control-plane processes, which do not, are kept.
 */
export function hostSnapshot(others: readonly ClusterLayout[] = []): HostSnapshot {
  return {
    processes: processes(others),
    mounts: mounts(),
    cgroups: cgroups(),
    netns: lines(run("ip", ["netns", "list"]).stdout.replace(/ \(id: \d+\)/g, "")),
    links: lines(run("ip", ["-o", "link", "show"]).stdout.replace(/^\d+: ([^:@]+)[^\n]*/gm, "$1")),
    routes: lines(run("ip", ["-o", "route", "show", "table", "all"]).stdout),
    nftTables: lines(run("nft", ["list", "tables"]).stdout),
    settings: {
      ...readKernelSettings(),
      "net/ipv4/ip_forward": readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8").trim(),
    },
    paths: [...statePaths.filter((path) => existsSync(path)), ...clusterRecords()].sort(),
  };
}
