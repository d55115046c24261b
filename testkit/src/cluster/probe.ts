import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { requireTool } from "../kube/tools.js";
import { waitFor } from "../wait.js";
import { kubectl } from "./kubectl.js";

/**
 * A client inside the test cluster (probe/probe.mjs in a pod), reached from the test through
 * `kubectl port-forward` on loopback: requests to Services go by ClusterIP and cluster DNS, from a pod,
 * as any client's do.
 */
export interface ProbeResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly ms: number;
  readonly error?: string;
}

export interface LoadResult {
  readonly sent: number;
  readonly ok: number;
  readonly statuses: Readonly<Record<string, number>>;
  readonly failures: readonly { at: string; status: number; error?: string; body?: string }[];
  readonly p50: number;
  readonly p99: number;
}

/** What POST /coherence found: reads after writes that did not show the write, and failures. */
export interface CoherenceResult {
  /** Reads sent after a write (readers × rounds whose write succeeded). */
  readonly reads: number;
  /** Reads after a write that did not show it (`stale` holds the first 20). */
  readonly staleReads: number;
  /** How long the rounds took, ms. */
  readonly ms: number;
  /** Reads before each write answered from the cache: the replicas held copies the write had to drop. */
  readonly hitsBeforeWrites: number;
  /** The first 20 stale reads; `at`: ms since the rounds started. */
  readonly stale: readonly { round: number; want: string; got: unknown; cacheStatus?: string; at: number }[];
  readonly failures: readonly { status: number; error?: string; body?: string; write?: boolean }[];
  /** Cache-Status values (key, ttl and fwd-status left out) and how many reads had each. */
  readonly cacheStatuses: Readonly<Record<string, number>>;
}

export interface Probe {
  request(request: {
    url: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    timeoutMs?: number;
  }): Promise<ProbeResponse>;
  startLoad(id: string, url: string, ratePerSecond: number): Promise<void>;
  stopLoad(id: string): Promise<LoadResult>;
  /**
   * `rounds` times: `readers` parallel reads of readUrl, a PUT of {[field]: `${prefix}-${round}`} to
   * writeUrl, then `readers` parallel reads that must all show it; each request on its own connection.
   */
  coherence(options: {
    readUrl: string;
    writeUrl: string;
    field: string;
    rounds: number;
    readers: number;
    prefix: string;
  }): Promise<CoherenceResult>;
  close(): Promise<void>;
}

const script = readFileSync(join(import.meta.dirname, "probe", "probe.mjs"), "utf8");

/** The probe's ConfigMap and Pod (never injected), in `namespace`, on `image` (any image with node). */
export function probeManifests(namespace: string, image: string): string {
  const configMap = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "apicache-probe", namespace },
    data: { "probe.mjs": script },
  };
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "apicache-probe",
      namespace,
      labels: { app: "apicache-probe", "apicache.io/inject": "false" },
    },
    spec: {
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        {
          name: "probe",
          image,
          imagePullPolicy: "IfNotPresent",
          command: ["node", "/probe/probe.mjs"],
          ports: [{ name: "http", containerPort: 8080 }],
          readinessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 1 },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
          },
          volumeMounts: [{ name: "probe", mountPath: "/probe" }],
        },
      ],
      volumes: [{ name: "probe", configMap: { name: "apicache-probe" } }],
    },
  };
  return [configMap, pod].map((object) => JSON.stringify(object)).join("\n---\n");
}

/** `kubectl port-forward` to a pod's port on a free loopback port; resolves once it forwards. */
export async function portForward(
  kubeconfig: string,
  target: { namespace: string; resource: string; port: number },
): Promise<{ url: string; close: () => Promise<void> }> {
  const child: ChildProcess = spawn(
    requireTool("kubectl"),
    [
      "--kubeconfig",
      kubeconfig,
      "-n",
      target.namespace,
      "port-forward",
      "--address",
      "127.0.0.1",
      target.resource,
      `:${target.port}`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  const port = await waitFor(
    `kubectl port-forward ${target.resource}`,
    () => {
      if (child.exitCode !== null) throw new Error(`kubectl port-forward exited: ${output}`);
      return /Forwarding from 127\.0\.0\.1:(\d+)/.exec(output)?.[1];
    },
    { timeoutMs: 30_000, intervalMs: 50 },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Deploy the probe in `namespace` and connect to it. */
export async function startProbe(kubeconfig: string, namespace: string, image: string): Promise<Probe> {
  const k = kubectl(kubeconfig);
  await k(["apply", "-f", "-"], probeManifests(namespace, image));
  await k(["-n", namespace, "wait", "--for=condition=Ready", "pod/apicache-probe", "--timeout=120s"]);
  const forward = await portForward(kubeconfig, { namespace, resource: "pod/apicache-probe", port: 8080 });
  const call = async <T>(path: string, body: unknown): Promise<T> => {
    const res = await fetch(`${forward.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(120_000),
    });
    if (!res.ok) throw new Error(`probe ${path}: HTTP ${res.status}`);
    return (await res.json()) as T;
  };
  return {
    request: (request) => call<ProbeResponse>("/request", request),
    startLoad: async (id, url, ratePerSecond) => {
      await call("/load/start", { id, url, ratePerSecond });
    },
    stopLoad: (id) => call<LoadResult>("/load/stop", { id }),
    coherence: (options) => call<CoherenceResult>("/coherence", options),
    close: forward.close,
  };
}
