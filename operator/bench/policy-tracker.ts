import { waitFor } from "../../testkit/src/wait.js";
import type { BenchApi, WatchEvent } from "./bench-api.js";

/**
 * What the benchmark waits on, kept from one watch on the benchmark's CachePolicies (a list of 5,000
 * policies every poll would cost the API server more than the operator's writes being measured):
 * per policy, whether its status is Ready for its generation and which pods it counts.
 */
interface PolicyState {
  readonly readyForGeneration: boolean;
  readonly selectedPods: number;
  readonly injectedPods: number;
}

interface StoredPolicy {
  metadata: { namespace: string; name: string; generation?: number; resourceVersion?: string };
  status?: {
    observedGeneration?: number;
    selectedPods?: number;
    injectedPods?: number;
    conditions?: { type: string; status: string }[];
  };
}

const PATH = "/apis/apicache.io/v1alpha1/cachepolicies";

function stateOf(policy: StoredPolicy): PolicyState {
  const status = policy.status;
  return {
    readyForGeneration:
      status?.observedGeneration === policy.metadata.generation &&
      (status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"),
    selectedPods: status?.selectedPods ?? 0,
    injectedPods: status?.injectedPods ?? 0,
  };
}

export class PolicyTracker {
  private readonly states = new Map<string, PolicyState>();
  private resourceVersion = "";
  private current: { stop(): void } | undefined;
  private stopped = false;

  constructor(
    private readonly api: BenchApi,
    private readonly labelSelector: string,
  ) {}

  /** Lists (retrying while the API server still initializes a new CRD's storage: 429), then watches. */
  async start(): Promise<void> {
    await waitFor("the CachePolicy list to be served", () => this.relist().then(() => true), {
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.current?.stop();
  }

  readyCount(): number {
    let ready = 0;
    for (const state of this.states.values()) if (state.readyForGeneration) ready += 1;
    return ready;
  }

  /** Policies Ready for their generation that count `pods` selected and `pods` injected pods. */
  countingCount(pods: number): number {
    let counting = 0;
    for (const s of this.states.values()) {
      if (s.readyForGeneration && s.selectedPods === pods && s.injectedPods === pods) counting += 1;
    }
    return counting;
  }

  private async relist(): Promise<void> {
    const list = await this.api.getJson<{ metadata: { resourceVersion: string }; items: StoredPolicy[] }>(
      `${PATH}?labelSelector=${encodeURIComponent(this.labelSelector)}`,
    );
    this.states.clear();
    for (const item of list.items) this.states.set(keyOf(item), stateOf(item));
    this.resourceVersion = list.metadata.resourceVersion;
  }

  /** Watches until stopped; a watch the server ends resumes from the last version, a 410 relists. */
  private async run(): Promise<void> {
    while (!this.stopped) {
      let gone = false;
      const query = `labelSelector=${encodeURIComponent(this.labelSelector)}&resourceVersion=${this.resourceVersion}&allowWatchBookmarks=true`;
      const watch = this.api.watch(`${PATH}?watch=1&${query}`, (event) => {
        if (event.type === "ERROR") gone = true;
        else this.apply(event);
      });
      this.current = watch;
      await watch.ended.catch(() => {
        gone = true;
      });
      if (gone && !this.stopped) await this.relist().catch(() => undefined);
    }
  }

  private apply(event: WatchEvent): void {
    const object = event.object as unknown as StoredPolicy;
    if (object.metadata.resourceVersion) this.resourceVersion = object.metadata.resourceVersion;
    if (event.type === "BOOKMARK") return;
    if (event.type === "DELETED") this.states.delete(keyOf(object));
    else this.states.set(keyOf(object), stateOf(object));
  }
}

const keyOf = (p: StoredPolicy) => `${p.metadata.namespace}/${p.metadata.name}`;
