import { join } from "node:path";
import { repoRoot } from "../kube/tools.js";
import {
  type ComponentInputs,
  type ComponentName,
  type ComponentSpec,
  clusterComponents,
} from "./components.js";
import type { ClusterLayout } from "./layout.js";
import { runningPid } from "./processes.js";

export type Binaries = ComponentInputs["binaries"];

/**
 * Binaries by name only: enough to recognise running processes (by basename), so that finding and
 * stopping a cluster never needs its tools to still be installed.
 */
export const binariesByName: Binaries = {
  etcd: "etcd",
  "kube-apiserver": "kube-apiserver",
  "kube-controller-manager": "kube-controller-manager",
  "kube-scheduler": "kube-scheduler",
  kubelet: "kubelet",
  "kube-proxy": "kube-proxy",
  containerd: "containerd",
};

/** The cluster's components in start order; with names only (the default) to find running ones. */
export function componentSpecs(
  layout: ClusterLayout,
  options: {
    readonly binaries?: Binaries;
    readonly etcdPorts?: ComponentInputs["etcdPorts"];
    readonly kubeVersion?: string;
  } = {},
): ComponentSpec[] {
  return clusterComponents({
    layout,
    binaries: options.binaries ?? binariesByName,
    dns: {
      node: process.execPath,
      args: ["--import", "tsx", join(repoRoot, "testkit", "src", "cluster", "cluster-dns-main.ts")],
    },
    etcdPorts: options.etcdPorts ?? { etcdClient: 0, etcdPeer: 0 },
    kubeVersion: options.kubeVersion ?? "v1.0.0",
  });
}

/** The components of the directory's cluster whose process runs (by pid file and command line). */
export function runningComponents(layout: ClusterLayout): Partial<Record<ComponentName, number>> {
  const pids: Partial<Record<ComponentName, number>> = {};
  for (const spec of componentSpecs(layout)) {
    const pid = runningPid(layout, spec);
    if (pid !== undefined) pids[spec.name] = pid;
  }
  return pids;
}
