import {
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  type ObjectCallback,
  type Watch,
} from "@kubernetes/client-node";
import type { Logger } from "pino";
import { type BackoffOptions, backoffDelay } from "../backoff.js";
import type { Clock, Timer } from "../clock.js";

/**
 * An informer that keeps going. client-node's ListWatch relists by itself on 410 Gone and reconnects
 * when a watch ends normally, but on any other error (a failed list, a refused connection, a 403) it
 * emits `error` and STOPS. This wrapper restarts it with jittered exponential backoff, keeping its
 * cache and resourceVersion (a too-old version then gets a 410 and a relist), counts the restarts,
 * and reports whether the cache has synced. List and watch are passed in, so tests fake them.
 */
export type WatchLike = Pick<Watch, "watch">;

export interface InformerOptions<T extends KubernetesObject> {
  /** For metrics and logs: "cachepolicies", "pods", … */
  readonly resource: string;
  /** Watch path, e.g. /api/v1/namespaces/shop/pods */
  readonly path: string;
  readonly list: () => Promise<KubernetesListObject<T>>;
  readonly watch: WatchLike;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly clock: Clock;
  readonly backoff: BackoffOptions;
  readonly log: Logger;
  readonly onRestart?: (resource: string) => void;
  /**
   * What the cache keeps of each object (listed and watched): e.g. the few fields of a Pod the
   * operator reads. The object handed to event callbacks is the transformed one. `cached` is the
   * cache's object of that name before this one replaces it (for parts that can be shared with it).
   */
  readonly transform?: (object: T, cached: T | undefined) => T;
}

/** A watch that hands every watched object through `transform` (bookmarks and errors as they are). */
function transformingWatch<T>(watch: WatchLike, transform: (object: T) => T): WatchLike {
  return {
    watch: (path, query, callback, done) =>
      watch.watch(
        path,
        query,
        (phase, object, raw) =>
          callback(
            phase,
            phase === "ADDED" || phase === "MODIFIED" || phase === "DELETED" ? transform(object) : object,
            raw,
          ),
        done,
      ),
  };
}

export class ResilientInformer<T extends KubernetesObject> {
  private readonly inner: ListWatch<T>;
  private stopped = true;
  private failures = 0;
  private restartTimer: Timer | undefined;
  private failedThisStart = false;
  private hasSynced = false;
  private readonly syncWaiters: (() => void)[] = [];

  /** What restarts need (not the list, watch or transform: they live in `inner`). */
  private readonly options: Pick<InformerOptions<T>, "resource" | "backoff" | "log" | "clock" | "onRestart">;

  constructor(options: InformerOptions<T>) {
    this.options = options;
    const given = options.transform;
    const transform = given
      ? (object: T) => given(object, this.inner?.get(object.metadata?.name ?? "", object.metadata?.namespace))
      : undefined;
    // A list that lands after stop() must not start a watch (client-node's ListWatch checks only
    // before listing): it fails instead, and a stopped informer does not restart on a failure.
    const list = async () => {
      const listed = await options.list();
      if (this.stopped) throw new Error(`the ${options.resource} informer stopped while listing`);
      return transform ? { ...listed, items: listed.items.map((item) => transform(item)) } : listed;
    };
    const watch = transform ? transformingWatch(options.watch, transform) : options.watch;
    this.inner = new ListWatch<T>(
      options.path,
      watch as Watch,
      list,
      false,
      options.labelSelector,
      options.fieldSelector,
    );
    this.inner.on("error", (error) => this.onError(error));
  }

  get synced(): boolean {
    return this.hasSynced;
  }

  on(event: "add" | "update" | "delete", callback: ObjectCallback<T>): void {
    this.inner.on(event, callback);
  }

  off(event: "add" | "update" | "delete", callback: ObjectCallback<T>): void {
    this.inner.off(event, callback);
  }

  list(namespace?: string): readonly T[] {
    return this.inner.list(namespace);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.inner.get(name, namespace);
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.attempt();
  }

  /** Resolves once the first list has landed in the cache. */
  waitForSync(): Promise<void> {
    if (this.hasSynced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.restartTimer?.cancel();
    this.restartTimer = undefined;
    await this.inner.stop();
  }

  private async attempt(): Promise<void> {
    this.failedThisStart = false;
    await this.inner.start();
    if (this.stopped || this.failedThisStart) return;
    this.failures = 0;
    if (!this.hasSynced) {
      this.hasSynced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
  }

  private onError(error: unknown): void {
    this.failedThisStart = true;
    if (this.stopped || this.restartTimer) return;
    const delay = backoffDelay(this.failures, this.options.backoff);
    this.failures += 1;
    this.options.log.warn(
      { resource: this.options.resource, err: error, retryInMs: delay },
      "informer stopped on an error; restarting",
    );
    this.restartTimer = this.options.clock.setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopped) return;
      this.options.onRestart?.(this.options.resource);
      void this.attempt();
    }, delay);
  }
}
