import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { Logger } from "pino";
import type { CertSource } from "../certs/serving-certs.js";
import { WEBHOOK_PATH } from "../constants.js";
import { OPERATOR_ERROR_CODES, OperatorError } from "../errors.js";
import { listenOn } from "../server/listen.js";
import type { OperatorMetrics } from "../telemetry/metrics.js";
import { type AdmissionDeps, type AdmissionReviewRequest, admit } from "./admission.js";

/**
 * The injection webhook's HTTPS listener (node:https: nothing on the hot path but parsing, a pure
 * transform and a JSON patch). New certificates are swapped in with setSecureContext: connections
 * already open keep theirs, new handshakes get the new one, nothing is dropped.
 */
export interface WebhookServerOptions {
  readonly host: string;
  readonly port: number;
  readonly certs: CertSource;
  readonly deps: () => AdmissionDeps;
  readonly metrics: OperatorMetrics;
  readonly log: Logger;
}

const MAX_BODY = 4 * 1024 * 1024;

export interface WebhookServer {
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        resolve(undefined);
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: WebhookServerOptions,
): Promise<void> {
  if (req.method !== "POST" || req.url?.split("?")[0] !== WEBHOOK_PATH) {
    res.writeHead(404, { "content-type": "text/plain" }).end(`POST AdmissionReviews to ${WEBHOOK_PATH}\n`);
    return;
  }
  const end = options.metrics.webhookDuration.startTimer();
  const body = await readBody(req);
  let review: AdmissionReviewRequest;
  try {
    review = JSON.parse(body?.toString("utf8") ?? "") as AdmissionReviewRequest;
  } catch {
    end({ result: "error" });
    options.metrics.injectionsTotal.inc({ result: "error" });
    res.writeHead(400, { "content-type": "text/plain" }).end("the body must be an AdmissionReview (JSON)\n");
    return;
  }
  const outcome = admit(review, options.deps());
  options.metrics.injectionsTotal.inc({ result: outcome.result });
  end({ result: outcome.result === "error" ? "error" : outcome.patch.length > 0 ? "patched" : "allowed" });
  if (outcome.result === "error") {
    options.log.warn(
      {
        err: new OperatorError(OPERATOR_ERROR_CODES.WEBHOOK_REQUEST, outcome.detail),
        uid: review.request?.uid,
      },
      "pod admitted without the sidecar",
    );
  } else {
    options.log.debug(
      {
        uid: review.request?.uid,
        namespace: review.request?.namespace,
        result: outcome.result,
        detail: outcome.detail,
      },
      "admission review",
    );
  }
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(outcome.response));
}

export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const initial = options.certs.current();
  if (!initial)
    throw new OperatorError(OPERATOR_ERROR_CODES.WEBHOOK_CERT, "no serving certificate loaded yet");
  const server = createServer({ cert: initial.certPem, key: initial.keyPem }, (req, res) => {
    handle(req, res, options).catch((error: unknown) => {
      options.log.error({ err: error }, "webhook request failed");
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
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
