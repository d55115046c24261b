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

/**
 * `promise`, or a rejection with the signal's reason as soon as `signal` aborts, whichever comes
 * first: for awaiting work that does not take a signal itself (or ignores it), so the awaiting code
 * ends with the term of leadership even while that work hangs.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener("abort", abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}
