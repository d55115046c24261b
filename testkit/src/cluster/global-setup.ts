// Vitest globalSetup of the cluster tier (vitest.config.ts): one real single-node cluster for every
// test file of the tier (slot 1, so that a developer's `make cluster-up` cluster on slot 0 can keep
// running), torn down in teardown — also when tests failed — and checked to have left the host as it
// found it. APICACHE_CLUSTER_KUBECONFIG=<path> runs the tier against a running cluster instead.
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { TestProject } from "vitest/node";
import { readKubeTestkitConfig } from "../kube/config.js";
import { repoRoot } from "../kube/tools.js";
import { failRunOnError } from "./fail-run.js";
import { type HostSnapshot, hostSnapshot } from "./host-snapshot.js";
import { clusterLayout } from "./layout.js";
import { clusterDown, clusterUp, defaultClusterDir, imageArchives, importImages } from "./node-cluster.js";

export const tierClusterDir = join(repoRoot, ".cache", "cluster-tier");
export const tierClusterSlot = 1;

function differences(before: HostSnapshot, after: HostSnapshot): string[] {
  return (Object.keys(before) as (keyof HostSnapshot)[])
    .filter((key) => !isDeepStrictEqual(before[key], after[key]))
    .map((key) => `${key}: before ${JSON.stringify(before[key])}, after ${JSON.stringify(after[key])}`);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const config = readKubeTestkitConfig();
  if (config.clusterKubeconfig !== undefined) {
    project.provide("apicacheClusterKubeconfig", config.clusterKubeconfig);
    project.provide("apicacheClusterNetns", "");
    return async () => undefined;
  }
  const archives = imageArchives(config.imagesDir);
  // A cluster left by an interrupted run goes first, so that the snapshot sees the host as it should be.
  await clusterDown(tierClusterDir, tierClusterSlot);
  // A developer's `make cluster-up` cluster may run meanwhile: its pods come and go on their own.
  const others = [clusterLayout(defaultClusterDir, 0)];
  const before = hostSnapshot(others);
  const log = (line: string) => process.stdout.write(`[cluster tier] ${line}\n`);
  const started = Date.now();
  const cluster = await clusterUp({ dir: tierClusterDir, slot: tierClusterSlot, progress: log });
  log(`cluster ready in ${((Date.now() - started) / 1000).toFixed(1)}s (Kubernetes ${cluster.kubeVersion})`);
  const imported = Date.now();
  importImages(clusterLayout(cluster.dir, cluster.slot), archives);
  log(`${archives.length} images imported in ${((Date.now() - imported) / 1000).toFixed(1)}s`);
  project.provide("apicacheClusterKubeconfig", cluster.kubeconfigPath);
  project.provide("apicacheClusterNetns", clusterLayout(cluster.dir, cluster.slot).network.netns);
  // A failure here (cluster-down's, or a changed host) fails the run: see fail-run.ts.
  return failRunOnError(async () => {
    await clusterDown(tierClusterDir, tierClusterSlot);
    const left = differences(before, hostSnapshot(others));
    if (left.length > 0) {
      throw new Error(`the cluster tier left the host changed after cluster-down:\n  ${left.join("\n  ")}`);
    }
    log(
      "cluster down; the host is as it was before the tier (processes, mounts, cgroups, namespaces, links, routes, nftables, kernel settings, node folders, slot records)",
    );
  });
}
