/**
 * The operator benchmark's webhook load client (a separate process, like the API server): sends
 * REQUESTS AdmissionReviews for a pod that gets the sidecar, CONCURRENCY at a time, over keep-alive
 * HTTPS, and prints the client-side latencies (ms) as one JSON line.
 * Usage: tsx operator/bench/webhook-client.ts PORT NAMESPACE REQUESTS CONCURRENCY
 */
import { Agent, request } from "node:https";

/** What one run sends: `requests` reviews to the webhook on `port`, `concurrency` at a time. */
interface WebhookLoad {
  readonly port: number;
  readonly namespace: string;
  readonly requests: number;
  readonly concurrency: number;
}

const load: WebhookLoad = {
  port: Number(process.argv[2]),
  namespace: process.argv[3] ?? "",
  requests: Number(process.argv[4]),
  concurrency: Number(process.argv[5]),
};

function review(namespace: string, i: number): string {
  return JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: `bench-${i}`,
      kind: { group: "", version: "v1", kind: "Pod" },
      operation: "CREATE",
      namespace,
      object: {
        metadata: { generateName: "api-0-", labels: { app: "api-0" } },
        spec: {
          containers: [
            {
              name: "api",
              image: "x",
              ports: [{ name: "http", containerPort: 8080 }],
              readinessProbe: { httpGet: { path: "/ready", port: "http" } },
            },
          ],
        },
      },
    },
  });
}

async function run(agent: Agent, load: WebhookLoad): Promise<number[]> {
  const { port, namespace, requests, concurrency } = load;
  const latencies: number[] = [];
  let next = 0;
  const one = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const body = review(namespace, i);
      const started = process.hrtime.bigint();
      const req = request(
        {
          host: "127.0.0.1",
          port,
          path: "/mutate-v1-pod",
          method: "POST",
          agent,
          headers: { "content-type": "application/json" },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
            const answer = JSON.parse(Buffer.concat(chunks).toString()) as { response: { patch?: string } };
            if (!answer.response.patch) reject(new Error("the webhook did not inject"));
            else resolve();
          });
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  const worker = async () => {
    while (next < requests) await one(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return latencies.sort((a, b) => a - b);
}

// One keep-alive pool for both runs, as the API server keeps its connections to a webhook: the warm-up
// pays for the TLS handshakes and the JIT, the measured run sees the steady state.
const agent = new Agent({ keepAlive: true, maxSockets: load.concurrency, rejectUnauthorized: false });
await run(agent, load);
const sorted = await run(agent, load);
agent.destroy();
const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
console.log(
  JSON.stringify({ count: sorted.length, p50: at(50), p90: at(90), p99: at(99), max: sorted.at(-1) }),
);
