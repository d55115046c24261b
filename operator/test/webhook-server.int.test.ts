// The webhook's HTTPS listener, over real TLS on loopback: reviews it cannot handle (too large, not
// JSON) are answered with an HTTP error the API server can report, counted and logged; never a
// connection closed without an answer.

import type { IncomingHttpHeaders } from "node:http";
import { request } from "node:https";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueCa, issueServing, validityOf } from "../src/certs/issue.js";
import { CertHolder } from "../src/certs/serving-certs.js";
import { WEBHOOK_PATH } from "../src/constants.js";
import { createMetrics, type OperatorMetrics } from "../src/telemetry/metrics.js";
import {
  MAX_BODY,
  MAX_DRAIN,
  startWebhookServer,
  type WebhookServer,
} from "../src/webhook/webhook-server.js";

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

const review = {
  apiVersion: "admission.k8s.io/v1",
  kind: "AdmissionReview",
  request: {
    uid: "u-1",
    kind: { kind: "Pod" },
    operation: "CREATE",
    namespace: "shop",
    object: { spec: {} },
  },
};

describe("the webhook server", () => {
  let server: WebhookServer;
  let ca: string;
  let metrics: OperatorMetrics;
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const now = Date.now();
    const authority = issueCa(now, 3_600_000);
    const serving = issueServing(authority, ["localhost"], now, 3_600_000);
    ca = authority.certPem;
    const certs = new CertHolder();
    certs.set({ ...serving, notAfter: validityOf(serving.certPem).notAfter });
    metrics = createMetrics();
    const log = pino({ level: "warn" }, { write: (line: string) => logs.push(JSON.parse(line)) });
    const deps = () => ({
      findPolicy: () => undefined,
      options: { image: "sidecar", version: "0", nativeSidecar: false },
    });
    server = await startWebhookServer({ host: "127.0.0.1", port: 0, certs, deps, metrics, log });
  });

  afterAll(async () => {
    await server?.close();
  });

  /**
   * POSTs `size` bytes (`body` repeated) and resolves with the answer. With `end: false` the upload is
   * left open after them, as an API server still sending would: the answer must come anyway.
   */
  function post(body: Buffer, options: { end?: boolean } = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          servername: "localhost",
          port: server.port,
          path: WEBHOOK_PATH,
          method: "POST",
          ca,
          agent: false,
          headers: { "content-type": "application/json" },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text: Buffer.concat(chunks).toString(),
            });
            req.destroy();
          });
        },
      );
      req.on("error", reject);
      if (options.end === false) req.write(body);
      else req.end(body);
    });
  }

  async function errors(): Promise<number> {
    const counted = await metrics.injectionsTotal.get();
    return counted.values.find((value) => value.labels.result === "error")?.value ?? 0;
  }

  const refusals = (status: number) => logs.filter((line) => line.status === status);

  describe("given an AdmissionReview over the size limit", () => {
    it("answers 413 and closes the connection, counting and logging it as a failed review", async () => {
      const before = await errors();
      const answer = await post(Buffer.alloc(MAX_BODY + 1024 * 1024, "x"));
      expect(answer.status).toBe(413);
      expect(answer.headers.connection).toBe("close");
      expect(answer.text).toMatch(/larger than 4 MiB/);
      expect(await errors()).toBe(before + 1);
      expect(refusals(413)).toEqual([
        expect.objectContaining({
          level: 40,
          err: expect.objectContaining({ code: "APICACHE_ERR_OPERATOR_WEBHOOK_REQUEST" }),
          bytes: MAX_BODY + 1024 * 1024,
        }),
      ]);
    });

    it("answers 413 at once, without reading on, once the upload passes the drain limit", async () => {
      const answer = await post(Buffer.alloc(MAX_BODY + MAX_DRAIN + 1, "x"), { end: false });
      expect(answer.status).toBe(413);
      expect(refusals(413)).toHaveLength(2);
    });

    it("keeps answering reviews after it", async () => {
      const answer = await post(Buffer.from(JSON.stringify(review)));
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.text)).toMatchObject({ response: { uid: "u-1", allowed: true } });
    });
  });

  describe("given a body that is not JSON", () => {
    it("answers 400, counting and logging it as a failed review", async () => {
      const before = await errors();
      const answer = await post(Buffer.from("{not json"));
      expect(answer.status).toBe(400);
      expect(await errors()).toBe(before + 1);
      expect(refusals(400)).toEqual([
        expect.objectContaining({
          err: expect.objectContaining({ code: "APICACHE_ERR_OPERATOR_WEBHOOK_REQUEST" }),
        }),
      ]);
    });
  });
});
