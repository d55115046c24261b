import { POLICY_KEY } from "@apicache/crds";
import { CoreV1Api, KubeConfig, type V1ConfigMap, Watch } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { ERROR_CODES } from "../errors.js";
import type { PolicySource } from "./policy-source.js";

/**
 * The policy ConfigMap, watched through the Kubernetes API (`--policy-configmap ns/name`), so edits
 * apply in seconds instead of the minute a mounted volume lags. One list + watch on exactly that
 * ConfigMap (fieldSelector), restarted with jittered exponential backoff on any error, including 410
 * Gone (re-list). Credentials: in-cluster service account, or --kubeconfig.
 */
export interface ConfigMapSourceOptions {
  readonly namespace: string;
  readonly name: string;
  readonly kubeconfig?: string;
  /** The data key holding the manifest (default POLICY_KEY, policy.yaml: what the operator writes). */
  readonly key?: string;
  /** Backoff bounds (default 500 ms doubling to 30 s, ±50% jitter). */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
}

export class ConfigMapPolicySource implements PolicySource {
  readonly name: string;
  readonly #options: ConfigMapSourceOptions;
  readonly #log: Logger;
  readonly #key: string;
  #abort: AbortController | undefined;
  #retry: NodeJS.Timeout | undefined;
  #failures = 0;
  #stopped = false;

  constructor(options: ConfigMapSourceOptions, log: Logger) {
    this.#options = options;
    this.#log = log;
    this.#key = options.key ?? POLICY_KEY;
    this.name = `configmap ${options.namespace}/${options.name}`;
  }

  start(onText: (text: string, origin: string) => void): void {
    this.#stopped = false;
    void this.#run(onText);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#abort?.abort();
  }

  async #run(onText: (text: string, origin: string) => void): Promise<void> {
    if (this.#stopped) return;
    try {
      const kc = new KubeConfig();
      if (this.#options.kubeconfig) kc.loadFromFile(this.#options.kubeconfig);
      else kc.loadFromCluster();
      const fieldSelector = `metadata.name=${this.#options.name}`;
      const list = await kc
        .makeApiClient(CoreV1Api)
        .listNamespacedConfigMap({ namespace: this.#options.namespace, fieldSelector });
      for (const item of list.items) this.#deliver(item, onText);
      const path = `/api/v1/namespaces/${this.#options.namespace}/configmaps`;
      const query = {
        fieldSelector,
        resourceVersion: list.metadata?.resourceVersion,
        allowWatchBookmarks: true,
      };
      this.#abort = await new Watch(kc).watch(
        path,
        query,
        (phase, object: V1ConfigMap & { code?: number }) => {
          if (phase === "ERROR") {
            this.#abort?.abort();
            this.#restart(onText, new Error(`watch error ${object.code ?? ""}: ${JSON.stringify(object)}`));
            return;
          }
          if (phase === "ADDED" || phase === "MODIFIED") this.#deliver(object, onText);
          this.#failures = 0;
        },
        (error: unknown) => this.#restart(onText, error),
      );
    } catch (error) {
      this.#restart(onText, error);
    }
  }

  #deliver(configMap: V1ConfigMap, onText: (text: string, origin: string) => void): void {
    const text = configMap.data?.[this.#key];
    if (text === undefined) {
      this.#log.error(
        { code: ERROR_CODES.POLICY_READ, configMap: this.name, key: this.#key },
        `${this.name} has no ${this.#key} key`,
      );
      return;
    }
    onText(text, this.name);
  }

  /** Watches end normally (server timeout) too: restart at once then, with backoff after errors. */
  #restart(onText: (text: string, origin: string) => void, error: unknown): void {
    if (this.#stopped) return;
    clearTimeout(this.#retry);
    let delay = 0;
    if (error) {
      this.#failures++;
      const initial = this.#options.backoff?.initialMs ?? 500;
      const max = this.#options.backoff?.maxMs ?? 30_000;
      const base = Math.min(max, initial * 2 ** (this.#failures - 1));
      delay = base * (0.5 + Math.random());
      this.#log.warn(
        { err: error, code: ERROR_CODES.CONFIGMAP_WATCH, configMap: this.name, retryInMs: Math.round(delay) },
        "policy ConfigMap watch failed; retrying",
      );
    }
    this.#retry = setTimeout(() => void this.#run(onText), delay);
    this.#retry.unref();
  }
}
