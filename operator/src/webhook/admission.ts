import type { CachePolicy } from "@apicache/crds";
import type { V1LimitRange, V1Pod } from "@kubernetes/client-node";
import { type InjectOptions, injectSidecar } from "../inject/inject-sidecar.js";
import type { InjectionMetricResult } from "../telemetry/metric-names.js";
import { jsonDiff, type PatchOperation } from "./json-diff.js";

/**
 * AdmissionReview in, AdmissionReview out: finds the pod's CachePolicy, injects, answers with the
 * JSON patch between the pod as sent and as injected. Pure (the policy lookup is passed in). Every
 * failure admits the pod unchanged: the webhook must never be why a pod cannot start.
 */
export interface AdmissionReviewRequest {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly request?: {
    readonly uid: string;
    readonly kind?: { readonly kind?: string };
    readonly operation?: string;
    readonly namespace?: string;
    readonly dryRun?: boolean;
    readonly object?: unknown;
  };
}

export interface PolicyMatch {
  readonly policy: CachePolicy;
  readonly configHash: string;
}

export interface AdmissionDeps {
  readonly findPolicy: (
    namespace: string,
    labels: Record<string, string> | undefined,
  ) => PolicyMatch | undefined;
  /** The LimitRanges of a namespace, from a cache (the webhook must stay fast). */
  readonly limitRanges?: (namespace: string) => readonly V1LimitRange[];
  readonly options: Omit<InjectOptions, "configHash" | "limitRanges">;
}

export interface AdmissionOutcome {
  readonly response: object;
  readonly result: InjectionMetricResult;
  /** Why nothing was injected (for logs), or the policy that was. */
  readonly detail: string;
  readonly patch: readonly PatchOperation[];
}

function respond(
  apiVersion: string,
  uid: string,
  patch: readonly PatchOperation[],
  warnings: readonly string[] = [],
) {
  const response: Record<string, unknown> = { uid, allowed: true };
  if (patch.length > 0) {
    response.patchType = "JSONPatch";
    response.patch = Buffer.from(JSON.stringify(patch)).toString("base64");
  }
  if (warnings.length > 0) response.warnings = [...warnings];
  return { apiVersion, kind: "AdmissionReview", response };
}

export function admit(review: AdmissionReviewRequest, deps: AdmissionDeps): AdmissionOutcome {
  const apiVersion = review.apiVersion ?? "admission.k8s.io/v1";
  const request = review.request;
  if (!request?.uid) {
    return { response: respond(apiVersion, "", []), result: "error", detail: "no request.uid", patch: [] };
  }
  const pod = request.object as V1Pod | undefined;
  const skipped = (detail: string, warnings: readonly string[] = []): AdmissionOutcome => ({
    response: respond(apiVersion, request.uid, [], warnings),
    result: "skipped",
    detail,
    patch: [],
  });
  if (request.kind?.kind !== "Pod" || request.operation !== "CREATE" || !pod?.spec) {
    return skipped("not a Pod CREATE");
  }
  const namespace = request.namespace ?? pod.metadata?.namespace ?? "";
  const match = deps.findPolicy(namespace, pod.metadata?.labels);
  if (!match) return skipped("NoPolicy");
  try {
    const result = injectSidecar(pod, match.policy, {
      ...deps.options,
      configHash: match.configHash,
      limitRanges: deps.limitRanges?.(namespace) ?? [],
    });
    if (!result.injected) {
      // Only this skip is worth telling the user about: the pod runs without its cache.
      const warning =
        result.reason === "ResourceLimits" ? [`apicache: sidecar not injected: ${result.message}`] : [];
      return skipped(result.reason, warning);
    }
    const patch = jsonDiff(pod, result.pod);
    return {
      response: respond(apiVersion, request.uid, patch, result.warnings),
      result: "injected",
      detail: match.policy.metadata.name,
      patch,
    };
  } catch (error) {
    const message = `apicache: sidecar not injected: ${(error as Error).message}`;
    return {
      response: respond(apiVersion, request.uid, [], [message]),
      result: "error",
      detail: message,
      patch: [],
    };
  }
}
