// The webhook's HTTP surface (on express, docs/adr/0030), over real TLS on loopback: one path, one
// method, a JSON answer with its exact Content-Type, nothing express adds.

import { request } from "node:https";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueCa, issueServing, validityOf } from "../src/certs/issue.js";
import { CertHolder } from "../src/certs/serving-certs.js";
import { WEBHOOK_PATH } from "../src/constants.js";
import { createMetrics } from "../src/telemetry/metrics.js";
import { startWebhookServer, type WebhookServer } from "../src/webhook/webhook-server.js";
import { appPrototypesDuring } from "./app-prototypes.js";
import { policy } from "./fixtures.js";

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

describe("the webhook's HTTP surface", () => {
  let server: WebhookServer;
  let ca: string;
  const match = { policy: policy({ name: "api" }), configHash: "h" };

  beforeAll(async () => {
    const now = Date.now();
    const authority = issueCa(now, 3_600_000);
    const serving = issueServing(authority, ["localhost"], now, 3_600_000);
    ca = authority.certPem;
    const certs = new CertHolder();
    certs.set({ ...serving, notAfter: validityOf(serving.certPem).notAfter });
    const deps = () => ({
      findPolicy: (_ns: string, labels: Record<string, string> | undefined) =>
        labels?.app === "api" ? match : undefined,
      options: { image: "sidecar", version: "0", nativeSidecar: false },
    });
    const log = pino({ level: "silent" });
    server = await startWebhookServer({
      host: "127.0.0.1",
      port: 0,
      certs,
      deps,
      metrics: createMetrics(),
      log,
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  function send(method: string, path: string, body?: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", servername: "localhost", port: server.port, path, method, ca, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text: Buffer.concat(chunks).toString(),
            }),
          );
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  const review = (labels: Record<string, string>) =>
    JSON.stringify({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      request: {
        uid: "u-2",
        kind: { kind: "Pod" },
        operation: "CREATE",
        namespace: "shop",
        object: {
          metadata: { labels },
          spec: { containers: [{ name: "api", image: "x", ports: [{ name: "http", containerPort: 8080 }] }] },
        },
      },
    });

  it("answers a review with a JSON patch, as application/json with its length (not chunked), without X-Powered-By or ETag", async () => {
    const answer = await send("POST", `${WEBHOOK_PATH}?timeout=10s`, review({ app: "api" }));
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe("application/json");
    expect(answer.headers["content-length"]).toBe(String(Buffer.byteLength(answer.text)));
    expect(answer.headers["transfer-encoding"]).toBeUndefined();
    expect(answer.headers["x-powered-by"]).toBeUndefined();
    expect(answer.headers.etag).toBeUndefined();
    expect(JSON.parse(answer.text)).toMatchObject({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: "u-2", allowed: true, patchType: "JSONPatch", patch: expect.any(String) },
    });
  });

  it("admits a pod no policy selects without a patch", async () => {
    const answer = JSON.parse((await send("POST", WEBHOOK_PATH, review({ app: "other" }))).text);
    expect(answer.response).toMatchObject({ uid: "u-2", allowed: true });
    expect(answer.response.patch).toBeUndefined();
  });

  it("builds each request and response with its express app's prototypes, so express swaps none (ADR 0036)", async () => {
    const seen = await appPrototypesDuring(server.server, async () => {
      expect((await send("POST", WEBHOOK_PATH, review({ app: "api" }))).status).toBe(200);
    });
    expect(seen).toEqual([true]);
  });

  it.each([
    ["GET", WEBHOOK_PATH],
    ["PUT", WEBHOOK_PATH],
    ["POST", `${WEBHOOK_PATH}/`],
    ["POST", WEBHOOK_PATH.toUpperCase()],
    ["POST", "/"],
  ])("answers %s %s with a plain-text 404", async (method, path) => {
    const answer = await send(method, path, method === "GET" ? undefined : "{}");
    expect(answer.status).toBe(404);
    expect(answer.headers["content-type"]).toBe("text/plain");
    expect(answer.text).toBe(`POST AdmissionReviews to ${WEBHOOK_PATH}\n`);
  });
});
