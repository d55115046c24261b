// Vitest globalSetup of the cluster tier (vitest.config.ts): one real single-node cluster for every
// test file of the tier (slot 1, so that a developer's `make cluster-up` cluster on slot 0 can keep
// running), torn down in teardown — also when tests failed — and checked to have left the host as it
// found it. APICACHE_CLUSTER_KUBECONFIG=<path> runs the tier against a running cluster instead.
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { TestProject } from "vitest/node";
import { repoRoot } from "../kube/tools.js";
import { type HostSnapshot, hostSnapshot } from "./host-snapshot.js";
import { clusterDown, clusterUp } from "./node-cluster.js";

export const tierClusterDir = join(repoRoot, ".cache", "cluster-tier");
export const tierClusterSlot = 1;

function differences(before: HostSnapshot, after: HostSnapshot): string[] {
  return (Object.keys(before) as (keyof HostSnapshot)[])
    .filter((key) => !isDeepStrictEqual(before[key], after[key]))
    .map((key) => `${key}: before ${JSON.stringify(before[key])}, after ${JSON.stringify(after[key])}`);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const reuse = process.env.APICACHE_CLUSTER_KUBECONFIG;
  if (reuse !== undefined && reuse !== "") {
    project.provide("apicacheClusterKubeconfig", reuse);
    return async () => undefined;
  }
  // A cluster left by an interrupted run goes first, so that the snapshot sees the host as it should be.
  await clusterDown(tierClusterDir, tierClusterSlot);
  const before = hostSnapshot();
  const log = (line: string) => process.stdout.write(`[cluster tier] ${line}\n`);
  const started = Date.now();
  const cluster = await clusterUp({ dir: tierClusterDir, slot: tierClusterSlot, progress: log });
  log(`cluster ready in ${((Date.now() - started) / 1000).toFixed(1)}s (Kubernetes ${cluster.kubeVersion})`);
  project.provide("apicacheClusterKubeconfig", cluster.kubeconfigPath);
  return async () => {
    await clusterDown(tierClusterDir, tierClusterSlot);
    const left = differences(before, hostSnapshot());
    if (left.length > 0) {
      throw new Error(`the cluster tier left the host changed after cluster-down:\n  ${left.join("\n  ")}`);
    }
    log(
      "cluster down; the host is as it was before the tier (processes, mounts, cgroups, namespaces, links, routes, nftables, kernel settings, node folders)",
    );
  };
}
