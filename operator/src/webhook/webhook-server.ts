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

/** The largest AdmissionReview handled (a pod is at most ~1.5 MiB in etcd; a review holds it once). */
export const MAX_BODY = 4 * 1024 * 1024;
/**
 * How much more of an oversized body is read (and dropped) before the 413: the API server is still
 * sending, and a response written then closed under an unread upload can reach it as a reset instead.
 * Past this, the 413 goes out at once and the connection closes.
 */
export const MAX_DRAIN = 16 * 1024 * 1024;

export interface WebhookServer {
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

type Body = { readonly ok: true; readonly bytes: Buffer } | { readonly ok: false; readonly size: number };

/** The body, or its size once it is past MAX_BODY (then read to its end, or to MAX_DRAIN, and dropped). */
function readBody(req: IncomingMessage): Promise<Body> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
      else if (size > MAX_BODY + MAX_DRAIN) resolve({ ok: false, size });
      else chunks.length = 0;
    });
    req.on("end", () =>
      resolve(size > MAX_BODY ? { ok: false, size } : { ok: true, bytes: Buffer.concat(chunks) }),
    );
    req.on("error", reject);
  });
}

interface Refusal {
  readonly status: 400 | 413;
  readonly message: string;
  readonly bytes: number;
}

/**
 * An AdmissionReview not handled at all: counted and logged like a review that failed, answered with
 * an HTTP error. The API server then admits the pod without the sidecar (failurePolicy Ignore).
 */
function refuse(
  res: ServerResponse,
  options: WebhookServerOptions,
  end: (labels: { result: string }) => void,
  refusal: Refusal,
): void {
  end({ result: "error" });
  options.metrics.injectionsTotal.inc({ result: "error" });
  options.log.warn(
    {
      err: new OperatorError(OPERATOR_ERROR_CODES.WEBHOOK_REQUEST, refusal.message),
      status: refusal.status,
      bytes: refusal.bytes,
    },
    "AdmissionReview refused: the pod is admitted without the sidecar",
  );
  // A 413 closes the connection: past MAX_DRAIN the rest of the upload is never read.
  const close = refusal.status === 413 ? { connection: "close" } : {};
  res.writeHead(refusal.status, { "content-type": "text/plain", ...close }).end(`${refusal.message}\n`);
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
  if (!body.ok) {
    const message = `the AdmissionReview is larger than ${MAX_BODY / 1024 / 1024} MiB (${body.size} bytes or more)`;
    refuse(res, options, end, { status: 413, message, bytes: body.size });
    return;
  }
  let review: AdmissionReviewRequest;
  try {
    review = JSON.parse(body.bytes.toString("utf8")) as AdmissionReviewRequest;
  } catch {
    const message = "the body must be an AdmissionReview (JSON)";
    refuse(res, options, end, { status: 400, message, bytes: body.bytes.length });
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
