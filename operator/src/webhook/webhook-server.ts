import { createServer, type Server } from "node:https";
import type { CertSource } from "../certs/serving-certs.js";
import { OPERATOR_ERROR_CODES, OperatorError } from "../errors.js";
import { appMessages } from "../server/express-app.js";
import { listenOn } from "../server/listen.js";
import { type WebhookAppOptions, webhookApp } from "./webhook-app.js";

export { MAX_BODY, MAX_DRAIN } from "./review-body.js";

/**
 * The injection webhook's HTTPS listener, serving the webhook app (webhook-app.ts, on express:
 * nothing on its path but parsing, a pure transform and a JSON patch). New certificates are swapped in
 * with setSecureContext: connections already open keep theirs, new handshakes get the new one, nothing
 * is dropped.
 */
export interface WebhookServerOptions extends WebhookAppOptions {
  readonly host: string;
  readonly port: number;
  readonly certs: CertSource;
}

export interface WebhookServer {
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const initial = options.certs.current();
  if (!initial)
    throw new OperatorError(OPERATOR_ERROR_CODES.WEBHOOK_CERT, "no serving certificate loaded yet");
  const app = webhookApp(options);
  const server = createServer({ cert: initial.certPem, key: initial.keyPem, ...appMessages(app) }, app);
  server.keepAliveTimeout = 60_000;
  options.certs.onChange((certs) => {
    server.setSecureContext({ cert: certs.certPem, key: certs.keyPem });
    options.metrics.certificateExpiry.set(certs.notAfter / 1000);
    options.log.info(
      { notAfter: new Date(certs.notAfter).toISOString() },
      "webhook serving certificate reloaded",
    );
  });
  options.metrics.certificateExpiry.set(initial.notAfter / 1000);
  const port = await listenOn(server, "webhook", options.host, options.port);
  return {
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
