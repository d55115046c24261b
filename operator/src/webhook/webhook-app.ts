import type { ErrorRequestHandler, Express, NextFunction, Request, RequestHandler, Response } from "express";
import type { Logger } from "pino";
import { WEBHOOK_PATH } from "../constants.js";
import { OPERATOR_ERROR_CODES, OperatorError } from "../errors.js";
import { exactApp } from "../server/express-app.js";
import type { OperatorMetrics } from "../telemetry/metrics.js";
import { type AdmissionDeps, type AdmissionReviewRequest, admit } from "./admission.js";
import { ReviewRefusal, readReview } from "./review-body.js";

/**
 * The injection webhook as an express app: POST WEBHOOK_PATH only; the review timed from its first
 * byte, read (review-body.ts), admitted (pure `admit`) and answered; a review not handled at all is
 * answered by the one error handler.
 */
export interface WebhookAppOptions {
  readonly deps: () => AdmissionDeps;
  readonly metrics: OperatorMetrics;
  readonly log: Logger;
}

type EndTimer = (labels: { result: string }) => void;
interface Timed {
  end: EndTimer;
}

export function webhookApp(options: WebhookAppOptions): Express {
  const app = exactApp();
  const startTimer = (_req: Request, res: Response<unknown, Timed>, next: NextFunction) => {
    res.locals.end = options.metrics.webhookDuration.startTimer();
    next();
  };
  app.post(WEBHOOK_PATH, startTimer, readReview, answer(options));
  app.use(notFound);
  app.use(errors(options));
  return app;
}

function answer(options: WebhookAppOptions) {
  return (req: Request, res: Response<unknown, Timed>) => {
    const review = req.body as AdmissionReviewRequest;
    const outcome = admit(review, options.deps());
    options.metrics.injectionsTotal.inc({ result: outcome.result });
    const patched = outcome.result !== "error" && outcome.patch.length > 0;
    res.locals.end({ result: outcome.result === "error" ? "error" : patched ? "patched" : "allowed" });
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
    // With its length, the answer is not chunked: writeHead without one commits to chunked encoding.
    // The socket write (TLS) was a fifth of the webhook's busy time in a profile (ADR 0017, s5).
    const body = JSON.stringify(outcome.response);
    res
      .writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
      .end(body);
  };
}

const notFound: RequestHandler = (_req, res) => {
  res.writeHead(404, { "content-type": "text/plain" }).end(`POST AdmissionReviews to ${WEBHOOK_PATH}\n`);
};

/**
 * The one error handler. A review not handled at all (ReviewRefusal) is counted and logged like a
 * review that failed, and answered with an HTTP error: the API server then admits the pod without the
 * sidecar (failurePolicy Ignore). Anything else is logged and answered 500.
 */
function errors(options: WebhookAppOptions): ErrorRequestHandler {
  return (error: unknown, _req, res: Response<unknown, Partial<Timed>>, _next) => {
    if (!(error instanceof ReviewRefusal)) {
      options.log.error({ err: error }, "webhook request failed");
      if (!res.headersSent) res.writeHead(500).end();
      return;
    }
    res.locals.end?.({ result: "error" });
    options.metrics.injectionsTotal.inc({ result: "error" });
    options.log.warn(
      {
        err: new OperatorError(OPERATOR_ERROR_CODES.WEBHOOK_REQUEST, error.message),
        status: error.status,
        bytes: error.bytes,
      },
      "AdmissionReview refused: the pod is admitted without the sidecar",
    );
    // A 413 closes the connection: past MAX_DRAIN the rest of the upload is never read.
    const close = error.status === 413 ? { connection: "close" } : {};
    res.writeHead(error.status, { "content-type": "text/plain", ...close }).end(`${error.message}\n`);
  };
}
