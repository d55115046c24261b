import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { apiGet, startControlPlane } from "./control-plane.js";
import { controlPlaneLayout } from "./control-plane-args.js";
import { KubeTestkitError } from "./errors.js";
import { isRunning, stopByPid } from "./process-group.js";
import { repoRoot } from "./tools.js";

/**
 * The long-lived developer cluster behind `make cluster-up` / `make cluster-down`: the same control
 * plane the e2e tier starts, but detached from the starting process and tracked by pid files.
 */
export const defaultClusterDir: string = join(repoRoot, ".cache", "test-cluster");

export interface ClusterStatus {
  readonly running: boolean;
  readonly kubeconfigPath: string;
  readonly pids: { readonly etcd?: number; readonly apiServer?: number };
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function credentialsFrom(dir: string) {
  const layout = controlPlaneLayout(dir);
  const kubeconfig = readFileSync(layout.kubeconfigPath, "utf8");
  const server = /server:\s*(\S+)/.exec(kubeconfig)?.[1];
  if (server === undefined)
    throw new KubeTestkitError("APICACHE_ERR_CLUSTER_STATE", `no server in ${layout.kubeconfigPath}`);
  return {
    server,
    caPem: readFileSync(layout.caCert, "utf8"),
    certPem: readFileSync(layout.adminCert, "utf8"),
    keyPem: readFileSync(layout.adminKey, "utf8"),
  };
}

async function answersReadyz(dir: string): Promise<boolean> {
  try {
    return (await apiGet(credentialsFrom(dir), "/readyz")).status === 200;
  } catch {
    return false;
  }
}

export async function clusterStatus(dir: string = defaultClusterDir): Promise<ClusterStatus> {
  const layout = controlPlaneLayout(dir);
  const etcd = readPid(layout.etcdPidFile);
  const apiServer = readPid(layout.apiServerPidFile);
  const alive =
    etcd !== undefined &&
    apiServer !== undefined &&
    isRunning(etcd, "etcd") &&
    isRunning(apiServer, "kube-apiserver") &&
    existsSync(layout.kubeconfigPath);
  return {
    running: alive && (await answersReadyz(dir)),
    kubeconfigPath: layout.kubeconfigPath,
    pids: { ...(etcd === undefined ? {} : { etcd }), ...(apiServer === undefined ? {} : { apiServer }) },
  };
}

/** Stop whatever the pid files name (kube-apiserver first) and wait until both are gone. */
export async function clusterDown(dir: string = defaultClusterDir): Promise<{ stopped: number[] }> {
  const layout = controlPlaneLayout(dir);
  const stopped: number[] = [];
  for (const [pidFile, binary] of [
    [layout.apiServerPidFile, "kube-apiserver"],
    [layout.etcdPidFile, "etcd"],
  ] as const) {
    const pid = readPid(pidFile);
    if (pid !== undefined && isRunning(pid, binary)) {
      await stopByPid(pid, binary);
      stopped.push(pid);
    }
    rmSync(pidFile, { force: true });
  }
  return { stopped };
}

/** Start the cluster unless it already runs and answers /readyz (idempotent). */
export async function clusterUp(
  dir: string = defaultClusterDir,
): Promise<ClusterStatus & { started: boolean }> {
  const status = await clusterStatus(dir);
  if (status.running) return { ...status, started: false };
  await clusterDown(dir); // a half-dead leftover
  const plane = await startControlPlane({ dir, persistent: true });
  return { running: true, kubeconfigPath: plane.kubeconfigPath, pids: plane.pids, started: true };
}
