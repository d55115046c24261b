import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tierClusterDir, tierClusterSlot } from "../../src/cluster/global-setup.js";
import { hostSnapshot } from "../../src/cluster/host-snapshot.js";
import { clusterLayout } from "../../src/cluster/layout.js";
import { clusterDown, clusterStatus, clusterUp } from "../../src/cluster/node-cluster.js";
import { repoRoot } from "../../src/kube/tools.js";

// `make cluster-up` / `make cluster-down` on a cluster of their own (slot 2), next to the tier's
// shared one: both idempotent, and down leaves the host as up found it. (The tier's global setup makes
// the same check for the shared cluster after the last file.)
const dir = join(repoRoot, ".cache", "cluster-lifecycle");
const slot = 2;
// The tier's shared cluster keeps running meanwhile; its pods are not this cluster's business.
const others = [clusterLayout(tierClusterDir, tierClusterSlot)];

afterAll(async () => {
  await clusterDown(dir, slot);
});

describe("a test cluster's life", () => {
  it("comes up with a Ready node, is left alone when up again, and leaves nothing behind when down", async () => {
    await clusterDown(dir, slot);
    const before = hostSnapshot(others);

    const started = Date.now();
    const up = await clusterUp({ dir, slot });
    const upSeconds = (Date.now() - started) / 1000;
    expect(up.started).toBe(true);
    expect(await clusterStatus(dir)).toMatchObject({ slot, apiServer: "https://198.18.0.9:6443" });

    const again = await clusterUp({ dir, slot });
    expect(again.started).toBe(false);
    expect(again.pids).toEqual(up.pids);

    const during = hostSnapshot(others);
    expect(during.netns).toContain("apicache-node2");
    expect(during.processes.length).toBeGreaterThan(before.processes.length);

    const downStarted = Date.now();
    const down = await clusterDown(dir, slot);
    const downSeconds = (Date.now() - downStarted) / 1000;
    expect(down.stopped).toEqual([
      "kube-proxy",
      "kubelet",
      "containerd",
      "cluster-dns",
      "kube-scheduler",
      "kube-controller-manager",
      "kube-apiserver",
      "etcd",
    ]);
    expect(hostSnapshot(others)).toEqual(before);
    expect(await clusterStatus(dir)).toBeUndefined();
    expect((await clusterDown(dir, slot)).stopped).toEqual([]);
    process.stdout.write(
      `[cluster lifecycle] up ${upSeconds.toFixed(1)}s, down ${downSeconds.toFixed(1)}s\n`,
    );
  });
});
