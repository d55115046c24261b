import { formatProblems, type Problem, policyHash, policyRevision } from "@apicache/crds";
import type { Logger } from "pino";
import type { CompiledPolicy } from "../routing/compile-policy.js";
import type { SidecarMetrics } from "../telemetry/metrics.js";
import { type ReadConfigResult, readConfig } from "./read-config.js";

/**
 * The policy in effect. A new text is read (read-config.ts), compiled and swapped in with one
 * assignment: requests in flight keep the policy they started with. A text that is invalid, or of a
 * version this sidecar does not read, is rejected with one log line naming each problem under its
 * code, and the last good policy stays, with everything cached under it. A text stamped with an older revision than the one in effect
 * is ignored: the API watch and the mounted ConfigMap volume deliver the same revisions, the volume up
 * to a minute later, and a late one must not undo a newer one.
 */
export type ApplyResult =
  | { readonly ok: true; readonly changed: boolean; readonly policy: CompiledPolicy }
  | { readonly ok: false; readonly code: string; readonly problems: readonly Problem[] };

export class PolicyHolder {
  #current: CompiledPolicy;
  readonly #metrics: SidecarMetrics;
  readonly #log: Logger;
  readonly #listeners: ((policy: CompiledPolicy, previous: CompiledPolicy) => void)[] = [];

  constructor(initial: CompiledPolicy, metrics: SidecarMetrics, log: Logger) {
    this.#current = initial;
    this.#metrics = metrics;
    this.#log = log;
    metrics.configInfo.labels(initial.label, initial.hash).set(1);
  }

  get current(): CompiledPolicy {
    return this.#current;
  }

  onChange(listener: (policy: CompiledPolicy, previous: CompiledPolicy) => void): void {
    this.#listeners.push(listener);
  }

  /** Parses and, when valid and different, swaps in a policy text from `origin` (a file, a ConfigMap). */
  apply(text: string, origin: string): ApplyResult {
    if (policyHash(text) === this.#current.hash) return { ok: true, changed: false, policy: this.#current };
    const revision = policyRevision(text);
    const current = this.#current.revision;
    if (revision !== undefined && current !== undefined && revision < current) {
      this.#log.debug({ origin, revision, current }, "ignored an older policy revision");
      return { ok: true, changed: false, policy: this.#current };
    }
    const read = readConfig(text);
    if (!read.ok) return this.#reject(origin, read);
    const next = read.policy;
    const previous = this.#current;
    this.#current = next;
    this.#metrics.configInfo.reset();
    this.#metrics.configInfo.labels(next.label, next.hash).set(1);
    this.#metrics.configReloads.labels("success").inc();
    this.#log.info(
      {
        origin,
        policy: next.label,
        configHash: next.hash,
        format: read.format,
        mode: next.mode,
        routes: next.routes.length,
      },
      "policy reloaded",
    );
    if (JSON.stringify(next.store) !== JSON.stringify(previous.store)) {
      this.#log.warn(
        { origin, before: previous.store, after: next.store },
        "spec.store changed: the new store settings apply after the sidecar restarts",
      );
    }
    for (const listener of this.#listeners) listener(next, previous);
    return { ok: true, changed: true, policy: next };
  }

  #reject(origin: string, { code, problems }: Extract<ReadConfigResult, { ok: false }>): ApplyResult {
    this.#metrics.configReloads.labels("failure").inc();
    this.#log.error(
      { code, origin, problems, configHash: this.#current.hash },
      `rejected the policy from ${origin}, keeping the last good one (${this.#current.hash}): ${formatProblems(problems)}`,
    );
    return { ok: false, code, problems };
  }
}
