import type { Logger } from "pino";
import type { CertHolder } from "../certs/serving-certs.js";
import type { Runtime } from "../runtime.js";
import type { AdmissionDeps } from "./admission.js";
import { startWebhookServer, type WebhookServer } from "./webhook-server.js";

/** Starts the webhook listener as soon as a serving certificate is available; the getter says when it listens. */
export function serveWebhookWhenReady(
  runtime: Runtime,
  certs: CertHolder,
  deps: AdmissionDeps,
  onFatal: (reason: string) => void,
): () => WebhookServer | undefined {
  let webhook: WebhookServer | undefined;
  let starting = false;
  const start = () => {
    if (starting) return;
    starting = true;
    const { config, metrics, log } = runtime;
    startWebhookServer({ ...config.webhookListen, certs, deps: () => deps, metrics, log }).then(
      (server) => {
        webhook = server;
        log.info({ port: server.port }, "webhook listening");
      },
      (error: unknown) => {
        log.error({ err: error }, "webhook failed to start");
        onFatal((error as Error).message);
      },
    );
  };
  if (certs.current()) start();
  else certs.onChange(start);
  return () => webhook;
}

/**
 * On a graceful stop, once readiness is down: keep answering admission for `delayMs`, the time every
 * kube-proxy and the API server need to drop this pod from the webhook Service's endpoints, so no
 * pod is admitted uninjected because its admission call reached a closed port.
 */
export async function lingerForEndpoints(delayMs: number, log: Pick<Logger, "info">): Promise<void> {
  if (delayMs <= 0) return;
  log.info({ delayMs }, "not ready; answering the webhook until the delay ends");
  await new Promise((resolve) => setTimeout(resolve, delayMs));
}
