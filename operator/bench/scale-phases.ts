import { waitFor } from "../../testkit/src/wait.js";
import { appPod, policyManifest } from "../test/e2e/harness.js";
import type { BenchApi } from "./bench-api.js";

/**
 * The scale scenario's steps against the API server: create the policies (policy i in namespace
 * i mod N, selecting app=api-i), create their pods through the API (so through the operator's
 * webhook, as real pods are), and wait on a condition while printing how far it got.
 */
export const BENCH_LABEL = "bench=operator";
const POLICIES_PATH = "/apis/apicache.io/v1alpha1/namespaces";

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight. */
export async function runPool(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<unknown>,
  onProgress?: (done: number) => void,
): Promise<void> {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < count) {
      await task(next++);
      done += 1;
      onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

export const policyNamespace = (namespaces: readonly string[], i: number) =>
  namespaces[i % namespaces.length] as string;

/** Where the scenario creates its objects and how it reports progress while it does. */
export interface ScaleCluster {
  readonly api: BenchApi;
  /** Policy i goes to namespace i mod N (`policyNamespace`). */
  readonly namespaces: readonly string[];
  readonly progress: Progress;
}

export async function createPolicies(cluster: ScaleCluster, count: number): Promise<void> {
  const { api, namespaces, progress } = cluster;
  await runPool(
    count,
    25,
    (i) => {
      const manifest = policyManifest(`api-${i}`, policyNamespace(namespaces, i));
      const body = { ...manifest, metadata: { ...manifest.metadata, labels: { bench: "operator" } } };
      return api.post(`${POLICIES_PATH}/${body.metadata.namespace}/cachepolicies`, body);
    },
    (done) => progress.tick(`${done}/${count} CachePolicies created`),
  );
}

/** `perPolicy` pods for each policy, labelled as its selector wants; returns how many came back injected. */
export async function createPods(
  cluster: ScaleCluster,
  policies: number,
  perPolicy: number,
): Promise<number> {
  const { api, namespaces, progress } = cluster;
  let injected = 0;
  const count = policies * perPolicy;
  await runPool(
    count,
    32,
    async (j) => {
      const i = j % policies;
      const pod = appPod(`api-${i}-${Math.floor(j / policies)}`, { app: `api-${i}` });
      const created = await api.post(`/api/v1/namespaces/${policyNamespace(namespaces, i)}/pods`, pod);
      // The stored pod as the API server answers it: the webhook's patch is in it.
      if (created.includes('"apicache.io/status"')) injected += 1;
    },
    (done) => progress.tick(`${done}/${count} pods created (${injected} injected)`),
  );
  return injected;
}

/** Prints a progress line at most every `everyMs`, with the elapsed time and extra detail. */
export class Progress {
  private started = Date.now();
  private lastPrint = 0;

  constructor(
    private readonly detail: () => string = () => "",
    private readonly everyMs = 5_000,
  ) {}

  restart(): void {
    this.started = Date.now();
    this.lastPrint = Date.now();
  }

  elapsedMs(): number {
    return Date.now() - this.started;
  }

  tick(what: string, force = false): void {
    const now = Date.now();
    if (!force && now - this.lastPrint < this.everyMs) return;
    this.lastPrint = now;
    const extra = this.detail();
    console.log(`  ${what}, ${((now - this.started) / 1000).toFixed(1)} s${extra ? `; ${extra}` : ""}`);
  }
}

/** A count the scenario waits on: `current()` objects out of `target` are `description`. */
export interface CountTarget {
  readonly description: string;
  readonly current: () => number;
  readonly target: number;
}

/** Waits until `current()` reaches `target`, printing progress; returns the elapsed ms since `progress` restarted. */
export async function waitForCount(
  count: CountTarget,
  progress: Progress,
  timeoutMs: number,
): Promise<number> {
  const { description, current, target } = count;
  await waitFor(
    `${target} ${description}`,
    () => {
      const now = current();
      progress.tick(`${now}/${target} ${description}`);
      return now >= target;
    },
    { timeoutMs, intervalMs: 100 },
  );
  progress.tick(`${current()}/${target} ${description}`, true);
  return progress.elapsedMs();
}

export interface StoredSize {
  /** JSON bytes of the object as the API server serves it (what an informer caches). */
  readonly bytes: number;
  /** Of which metadata.managedFields. */
  readonly managedFieldsBytes: number;
}

/** The sizes of one stored pod and one managed ConfigMap of the policy api-0. */
export async function storedSizes(
  api: BenchApi,
  namespace: string,
): Promise<{ pod: StoredSize; configMap: StoredSize }> {
  const size = async (path: string) => {
    const object = await api.getJson<{ metadata: { managedFields?: unknown } }>(path);
    return {
      bytes: JSON.stringify(object).length,
      managedFieldsBytes: JSON.stringify(object.metadata.managedFields ?? []).length,
    };
  };
  return {
    pod: await size(`/api/v1/namespaces/${namespace}/pods/api-0-0`),
    configMap: await size(`/api/v1/namespaces/${namespace}/configmaps/apicache-api-0`),
  };
}
