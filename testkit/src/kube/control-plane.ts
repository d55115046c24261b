import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";
import { freePort } from "../ports.js";
import { waitFor } from "../wait.js";
import {
  apiServerArgs,
  type ControlPlaneLayout,
  type ControlPlanePorts,
  controlPlaneLayout,
  etcdArgs,
} from "./control-plane-args.js";
import { KubeTestkitError } from "./errors.js";
import { type AdminCredentials, loadKubeConfig, writeKubeconfig } from "./kubeconfig.js";
import { createCertificateAuthority, generateKeyPair } from "./pki.js";
import { logTail, type ProcessGroup, startProcessGroup } from "./process-group.js";
import { requireTool, resolveToolPaths, type ToolPaths } from "./tools.js";

/**
 * An envtest-style Kubernetes control plane: etcd + kube-apiserver on loopback, an admin client
 * certificate in system:masters, RBAC on. No controller-manager, scheduler or kubelet: Pods stay Pending.
 */
export interface ControlPlane {
  readonly dir: string;
  readonly kubeconfigPath: string;
  readonly kubeConfig: KubeConfig;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  readonly caPem: string;
  readonly pids: { readonly etcd: number; readonly apiServer: number };
  /** Stop kube-apiserver then etcd and wait for both to exit. */
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** State directory (PKI, etcd data, logs, kubeconfig); its previous etcd data and PKI are wiped. */
  readonly dir: string;
  /** Keep running after this Node process exits (`make cluster-up`); default: die with it (tests). */
  readonly persistent?: boolean;
  readonly tools?: ToolPaths;
  /** Deadline for etcd and kube-apiserver to become ready; default 120 s (a 2-core CI machine). */
  readonly startTimeoutMs?: number;
  /** Remove `dir` in stop(); default false. */
  readonly removeDirOnStop?: boolean;
}

function writePki(layout: ControlPlaneLayout, server: string): AdminCredentials {
  rmSync(layout.pkiDir, { recursive: true, force: true });
  mkdirSync(layout.pkiDir, { recursive: true, mode: 0o700 });
  const ca = createCertificateAuthority("apicache-test-cluster-ca");
  const serving = ca.issue({
    commonName: "kube-apiserver",
    usage: "server",
    dnsNames: ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"],
    ipAddresses: ["127.0.0.1", "10.0.0.1"],
  });
  const admin = ca.issue({
    commonName: "apicache-test-admin",
    organizations: ["system:masters"],
    usage: "client",
  });
  const serviceAccount = generateKeyPair();
  const files: [string, string][] = [
    [layout.caCert, ca.certPem],
    [layout.caKey, ca.keyPem],
    [layout.servingCert, serving.certPem],
    [layout.servingKey, serving.keyPem],
    [layout.adminCert, admin.certPem],
    [layout.adminKey, admin.keyPem],
    [layout.serviceAccountKey, serviceAccount.privateKeyPem],
    [layout.serviceAccountPub, serviceAccount.publicKeyPem],
  ];
  for (const [path, content] of files) writeFileSync(path, content, { mode: 0o600 });
  return { server, caPem: ca.certPem, certPem: admin.certPem, keyPem: admin.keyPem };
}

interface HttpResult {
  readonly status: number;
  readonly body: string;
}

/** One GET against the API server with the admin certificate. */
export function apiGet(credentials: AdminCredentials, path: string, timeoutMs = 5_000): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, credentials.server),
      { ca: credentials.caPem, cert: credentials.certPem, key: credentials.keyPem, timeout: timeoutMs },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

export async function etcdHealthy(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2_000) });
    return res.ok && ((await res.json()) as { health?: string }).health === "true";
  } catch {
    return false;
  }
}

/** Wait for `ready`, failing fast (with the log tail) if the process exits first. */
export async function waitUntilReady(
  proc: ProcessGroup,
  ready: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const exited = proc.exited.then(({ code, signal }) => {
    throw new KubeTestkitError(
      "APICACHE_ERR_PROCESS_EXITED",
      `${proc.name} exited (code ${code}, signal ${signal}) before it was ready; log ${proc.logPath}:\n${logTail(proc.logPath)}`,
    );
  });
  try {
    await Promise.race([
      waitFor(`${proc.name} to be ready`, async () => (await ready()) || undefined, {
        timeoutMs,
        intervalMs: 200,
      }),
      exited,
    ]);
  } catch (error) {
    if (error instanceof KubeTestkitError) throw error;
    throw new KubeTestkitError(
      "APICACHE_ERR_TIMEOUT",
      `${error instanceof Error ? error.message : String(error)}; log ${proc.logPath}:\n${logTail(proc.logPath)}`,
      { cause: error },
    );
  } finally {
    exited.catch(() => undefined);
  }
}

export async function apiServerReady(credentials: AdminCredentials): Promise<boolean> {
  try {
    const readyz = await apiGet(credentials, "/readyz");
    if (readyz.status !== 200) return false;
    // The system namespaces are created by a post-start controller; tests use "default" right away.
    return (await apiGet(credentials, "/api/v1/namespaces/default")).status === 200;
  } catch {
    return false;
  }
}

/** One start of the control plane: where its files go, its ports, the caller's options and the binaries. */
interface ControlPlaneStartup {
  readonly layout: ControlPlaneLayout;
  readonly ports: ControlPlanePorts;
  readonly options: ControlPlaneOptions;
  readonly tools: ToolPaths;
}

async function startEtcd(startup: ControlPlaneStartup): Promise<ProcessGroup> {
  const { layout, ports, options, tools } = startup;
  rmSync(layout.etcdDataDir, { recursive: true, force: true });
  const etcd = startProcessGroup({
    name: "etcd",
    command: requireTool("etcd", tools),
    args: etcdArgs(layout.etcdDataDir, ports),
    logPath: layout.etcdLog,
    cwd: layout.dir,
    dieWithParent: options.persistent !== true,
  });
  writeFileSync(layout.etcdPidFile, `${etcd.pid}\n`);
  await waitUntilReady(etcd, () => etcdHealthy(ports.etcdClient), options.startTimeoutMs ?? 120_000);
  return etcd;
}

async function startApiServer(
  startup: ControlPlaneStartup,
  credentials: AdminCredentials,
): Promise<ProcessGroup> {
  const { layout, ports, options, tools } = startup;
  const apiServer = startProcessGroup({
    name: "kube-apiserver",
    command: requireTool("kube-apiserver", tools),
    args: apiServerArgs(layout, ports),
    logPath: layout.apiServerLog,
    cwd: layout.dir,
    dieWithParent: options.persistent !== true,
  });
  writeFileSync(layout.apiServerPidFile, `${apiServer.pid}\n`);
  await waitUntilReady(apiServer, () => apiServerReady(credentials), options.startTimeoutMs ?? 120_000);
  return apiServer;
}

/** Three distinct free loopback ports (the OS may hand the same one out twice in a row). */
async function distinctFreePorts(): Promise<[number, number, number]> {
  const ports = new Set<number>();
  while (ports.size < 3) ports.add(await freePort());
  const [a = 0, b = 0, c = 0] = ports;
  return [a, b, c];
}

/** Start etcd and kube-apiserver on free loopback ports and wait until /readyz says ok. */
export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const tools = options.tools ?? resolveToolPaths();
  requireTool("kube-apiserver", tools);
  requireTool("etcd", tools);
  const layout = controlPlaneLayout(options.dir);
  mkdirSync(layout.dir, { recursive: true });
  const [etcdClient, etcdPeer, apiServerPort] = await distinctFreePorts();
  const ports: ControlPlanePorts = { etcdClient, etcdPeer, apiServer: apiServerPort };
  const credentials = writePki(layout, `https://127.0.0.1:${ports.apiServer}`);
  const startup: ControlPlaneStartup = { layout, ports, options, tools };
  const etcd = await startEtcd(startup);
  let apiServer: ProcessGroup;
  try {
    apiServer = await startApiServer(startup, credentials);
  } catch (error) {
    await etcd.stop();
    throw error;
  }
  writeKubeconfig(layout.kubeconfigPath, credentials);
  const removeDir = () => rmSync(layout.dir, { recursive: true, force: true });
  // Also on an interrupted run (the processes themselves are killed by process-group's exit hook).
  if (options.removeDirOnStop === true) process.once("exit", removeDir);
  return {
    dir: layout.dir,
    kubeconfigPath: layout.kubeconfigPath,
    kubeConfig: loadKubeConfig(layout.kubeconfigPath),
    server: credentials.server,
    caPem: credentials.caPem,
    pids: { etcd: etcd.pid, apiServer: apiServer.pid },
    stop: async () => {
      await apiServer.stop();
      await etcd.stop();
      rmSync(layout.apiServerPidFile, { force: true });
      rmSync(layout.etcdPidFile, { force: true });
      if (options.removeDirOnStop === true) {
        process.off("exit", removeDir);
        removeDir();
      }
    },
  };
}
