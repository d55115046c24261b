import type { CachePolicyStatus } from "@apicache/crds";
import { configMapName } from "../constants.js";
import type { Verdict } from "../policy/evaluate.js";
import { type DesiredCondition, setConditions } from "./conditions.js";
import type { PodCounts } from "./pod-counts.js";

/**
 * The status a reconcile writes: Valid, Degraded, Ready with reasons; observedGeneration; the hash
 * of the configuration the ConfigMap holds; pod counts. Pure.
 */
export interface StatusInput {
  readonly name: string;
  readonly generation: number;
  readonly verdict: Verdict;
  /** Hash of the config now in the ConfigMap (the new one when applied, the previous one otherwise). */
  readonly configHash: string | undefined;
  /** Set when applying the ConfigMap/RBAC failed. */
  readonly applyError?: string;
  /** The Ready reason of an apply error: ApplyFailed (the API refused), NameTaken (someone else's object). */
  readonly applyReason?: "ApplyFailed" | "NameTaken";
  /** With an apply error: the ConfigMap itself was written, a write after it failed. */
  readonly configWritten?: boolean;
  readonly pods: PodCounts;
  readonly previous: CachePolicyStatus | undefined;
  readonly now: Date;
}

const PORT_EXAMPLES = 3;

function validCondition(verdict: Verdict): DesiredCondition {
  if (verdict.valid) {
    return { type: "Valid", status: "True", reason: "Valid", message: "The policy passed validation." };
  }
  return { type: "Valid", status: "False", reason: verdict.reason, message: verdict.message };
}

const examples = (names: readonly string[]) =>
  names.slice(0, PORT_EXAMPLES).join(", ") + (names.length > PORT_EXAMPLES ? ", …" : "");

function degradedCondition(input: StatusInput): DesiredCondition {
  const { missingPort: missing, notInjected } = input.pods;
  if (input.verdict.valid && missing.length > 0) {
    const port = JSON.stringify(input.verdict.policy.spec.upstream.port);
    return {
      type: "Degraded",
      status: "True",
      reason: "UnknownUpstreamPort",
      message: `${missing.length} of ${input.pods.selected} selected pods declare no container port named ${port} (${examples(missing)}): the sidecar is not injected into them. Fix spec.upstream.port or the pods' ports.`,
    };
  }
  if (input.verdict.valid && notInjected.length > 0) {
    return {
      type: "Degraded",
      status: "True",
      reason: "PodsNotInjected",
      message: `${notInjected.length} of ${input.pods.selected} selected pods run without the sidecar (${examples(notInjected)}): they were created before this policy existed or while the injection webhook was unreachable (it never blocks a pod). Restart them to inject it, e.g. kubectl rollout restart deployment/<name>.`,
    };
  }
  if (input.verdict.valid && input.pods.injected > 1) {
    const { store, invalidate } = input.verdict.policy.spec;
    if (store.redis === undefined && invalidate.length > 0) {
      return {
        type: "Degraded",
        status: "True",
        reason: "StoreNotShared",
        message: `${input.pods.injected} pods run the sidecar, each with its own in-memory store: writes through one pod do not invalidate the others, which serve the old data until it expires. Set spec.store.redis to share one store (and its invalidations) between them.`,
      };
    }
  }
  return { type: "Degraded", status: "False", reason: "AsExpected", message: "No problem found." };
}

function readyCondition(input: StatusInput): DesiredCondition {
  const { verdict } = input;
  const keep = "Running sidecars keep the last valid configuration.";
  if (!verdict.valid) {
    return { type: "Ready", status: "False", reason: verdict.reason, message: `${verdict.message} ${keep}` };
  }
  if (input.applyError !== undefined) {
    const reason = input.applyReason ?? "ApplyFailed";
    const after = input.configWritten
      ? `Configuration ${input.configHash} is in ConfigMap ${configMapName(input.name)}: sidecars that may read it follow it.`
      : keep;
    return { type: "Ready", status: "False", reason, message: `${input.applyError} ${after}` };
  }
  return {
    type: "Ready",
    status: "True",
    reason: "ConfigApplied",
    message: `Configuration ${input.configHash} is in ConfigMap ${configMapName(input.name)}.`,
  };
}

export function computeStatus(input: StatusInput): CachePolicyStatus {
  const conditions = setConditions(
    input.previous?.conditions,
    [readyCondition(input), validCondition(input.verdict), degradedCondition(input)],
    { generation: input.generation, now: input.now },
  );
  return {
    observedGeneration: input.generation,
    ...(input.configHash === undefined ? {} : { configHash: input.configHash }),
    selectedPods: input.pods.selected,
    injectedPods: input.pods.injected,
    upToDatePods: input.pods.upToDate,
    conditions,
  };
}
