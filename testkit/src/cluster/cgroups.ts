import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ClusterLayout } from "./layout.js";

/**
 * The cgroup the kubelet puts every pod under (`cgroupRoot`), in every cgroup hierarchy (the v1 ones
 * and, on a hybrid host, the unified v2 one the kubelet also writes to): created before the kubelet
 * starts (it insists), emptied and removed when the cluster goes.
 */
function hierarchies(): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter((line) => /^cgroup2? /.test(line.split(" - ")[1] ?? ""))
    .map((line) => line.split(" ")[4] ?? "")
    .filter((point) => point !== "");
}

export function cgroupRootDirs(layout: ClusterLayout): string[] {
  return hierarchies().map((hierarchy) => join(hierarchy, layout.cgroupRoot));
}

export function createCgroupRoot(layout: ClusterLayout): void {
  for (const dir of cgroupRootDirs(layout)) {
    mkdirSync(dir, { recursive: true });
    // A new cpuset cgroup starts with no CPUs and no memory nodes: give it its parent's.
    if (existsSync(join(dir, "cpuset.cpus"))) {
      for (const file of ["cpuset.cpus", "cpuset.mems"]) {
        writeFileSync(join(dir, file), readFileSync(join(dir, "..", file)));
      }
    }
  }
}

/** Every cgroup directory under `dir`, deepest first. */
function cgroupTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const children = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => cgroupTree(join(dir, entry.name)));
  return [...children, dir];
}

/** The processes still in any cgroup under the cluster's cgroup root. */
export function processesInCgroupRoot(layout: ClusterLayout): number[] {
  const pids = new Set<number>();
  for (const dir of cgroupRootDirs(layout)) {
    for (const cgroup of cgroupTree(dir)) {
      for (const line of readFileSync(join(cgroup, "cgroup.procs"), "utf8").split("\n")) {
        const pid = Number.parseInt(line, 10);
        if (pid > 0) pids.add(pid);
      }
    }
  }
  return [...pids];
}

/** Remove the (empty) cgroup tree; returns the directories that could not be removed yet. */
export function removeCgroupRoot(layout: ClusterLayout): string[] {
  const left: string[] = [];
  for (const dir of cgroupRootDirs(layout)) {
    for (const cgroup of cgroupTree(dir)) {
      try {
        rmdirSync(cgroup);
      } catch {
        left.push(cgroup);
      }
    }
  }
  return left;
}
