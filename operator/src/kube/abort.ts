import {
  type KubeConfig,
  KubernetesObjectApi,
  Observable,
  type RequestContext,
  type ResponseContext,
} from "@kubernetes/client-node";

/**
 * Per-request options that abort the HTTP request when `signal` aborts (the elector's renew deadline,
 * the end of a term of leadership), so a hung or partitioned connection does not outlive it; the
 * default middleware (authentication) is kept. Undefined without a signal.
 */
export function aborting(signal: AbortSignal | undefined) {
  if (!signal) return undefined;
  return { middleware: [abortMiddleware(signal)], middlewareMergeStrategy: "append" as const };
}

function abortMiddleware(signal: AbortSignal) {
  return {
    pre: (context: RequestContext) => {
      context.setSignal(signal);
      return new Observable(Promise.resolve(context));
    },
    post: (context: ResponseContext) => new Observable(Promise.resolve(context)),
  };
}

/**
 * A generic-object client whose every request aborts with `signal`. KubernetesObjectApi ignores
 * per-call middleware (its `options` replace the server configuration only), so the middleware
 * goes into the client's own configuration.
 */
export function abortableObjectsApi(kubeConfig: KubeConfig, signal: AbortSignal): KubernetesObjectApi {
  const api = KubernetesObjectApi.makeApiClient(kubeConfig);
  (api as unknown as { configuration: { middleware: unknown[] } }).configuration.middleware.push(
    abortMiddleware(signal),
  );
  return api;
}
