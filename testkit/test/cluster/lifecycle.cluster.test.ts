import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stateFile } from "../../src/cluster/cluster-state.js";
import type { ComponentName } from "../../src/cluster/components.js";
import { tierClusterDir, tierClusterSlot } from "../../src/cluster/global-setup.js";
import { hostSnapshot } from "../../src/cluster/host-snapshot.js";
import { kubectl } from "../../src/cluster/kubectl.js";
import { clusterLayout } from "../../src/cluster/layout.js";
import { clusterDown, clusterStatus, clusterUp } from "../../src/cluster/node-cluster.js";
import { repoRoot } from "../../src/kube/tools.js";
import { waitFor } from "../../src/wait.js";

// `make cluster-up` / `make cluster-down` on a cluster of their own (slot 2), next to the tier's
// shared one: both idempotent, `up` never wiping a cluster that is there, a slot kept from other
// directories, and down leaving the host as up found it. (The tier's global setup makes the same check
// for the shared cluster after the last file.)
const dir = join(repoRoot, ".cache", "cluster-lifecycle");
const otherDir = join(repoRoot, ".cache", "cluster-lifecycle-other");
const slot = 2;
// The tier's shared cluster keeps running meanwhile; its pods are not this cluster's business.
const others = [clusterLayout(tierClusterDir, tierClusterSlot)];

afterAll(async () => {
  await clusterDown(dir, slot);
});

const marker = async () =>
  (
    await kubectl(join(dir, "kubeconfig"))(["-n", "default", "get", "configmap", "marker", "-o", "name"])
  ).trim();

/** Gone, or a zombie nobody has reaped yet. */
function dead(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/** SIGSTOP a process for `ms` (a busy machine, a long GC pause), then let it go on. */
function pause(pid: number, ms: number): Promise<void> {
  process.kill(pid, "SIGSTOP");
  return new Promise((resolve) =>
    setTimeout(() => {
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        // Gone: replaced by the `up` under test (the failure the test reports).
      }
      resolve();
    }, ms),
  );
}

describe("a test cluster's life", () => {
  it("comes up with a Ready node, is kept by up, refuses other directories, and leaves nothing behind when down", async () => {
    await clusterDown(dir, slot);
    const before = hostSnapshot(others);

    const started = Date.now();
    const up = await clusterUp({ dir, slot });
    const upSeconds = (Date.now() - started) / 1000;
    expect(up.started).toBe(true);
    expect(await clusterStatus(dir)).toMatchObject({ slot, apiServer: "https://198.18.0.9:6443" });
    await kubectl(up.kubeconfigPath)(["-n", "default", "create", "configmap", "marker"]);

    // Another directory on the same slot would share its namespace, link and cgroups: refused, nothing changed.
    const taken =
      /slot 2 belongs to the running cluster in .*cluster-lifecycle, not to .*cluster-lifecycle-other/;
    await expect(clusterDown(otherDir, slot)).rejects.toThrow(taken);
    await expect(clusterUp({ dir: otherDir, slot })).rejects.toThrow(taken);
    expect(await clusterStatus(dir)).toMatchObject({ pids: up.pids });

    // Up while the API server does not answer for 8 s: waited for, not replaced.
    const apiServer = up.pids["kube-apiserver"] as number;
    const paused = pause(apiServer, 8_000);
    const again = await clusterUp({ dir, slot });
    await paused;
    expect(again).toMatchObject({ started: false, restarted: [], pids: up.pids });
    expect(await marker()).toBe("configmap/marker");

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

  it("starts only the components that died, keeping etcd's data", async () => {
    const up = await clusterUp({ dir, slot });
    await kubectl(up.kubeconfigPath)(["-n", "default", "create", "configmap", "marker"]);
    const killed = [up.pids.etcd as number, up.pids.kubelet as number];
    for (const pid of killed) process.kill(pid, "SIGKILL");
    await waitFor("etcd and the kubelet to die", () => killed.every(dead), { timeoutMs: 10_000 });

    const again = await clusterUp({ dir, slot });
    expect(again.started).toBe(false);
    expect(again.restarted).toEqual(["etcd", "kubelet"]);
    for (const name of Object.keys(up.pids) as ComponentName[]) {
      if (name === "etcd" || name === "kubelet") expect(again.pids[name]).not.toBe(up.pids[name]);
      else expect(again.pids[name]).toBe(up.pids[name]);
    }
    expect(await marker()).toBe("configmap/marker");
    await clusterDown(dir, slot);
  });

  it("reports and clears a cluster.json it cannot use (status and down carry on without it)", async () => {
    writeFileSync(stateFile(dir), '{"slot":2,"kubeVersion":""}\n');
    expect(await clusterStatus(dir)).toBeUndefined();
    expect((await clusterDown(dir, slot)).stopped).toEqual([]);
    expect(existsSync(stateFile(dir))).toBe(false);
  });
});
