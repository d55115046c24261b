import { Agent, request } from "node:http";
import type { ConcreteRequest } from "../sampler.js";

/** A minimal keep-alive HTTP client for the load generator (node:http; one agent per target). */
export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
  readonly latencyMs: number;
}

export interface HttpClient {
  send(
    method: string,
    path: string,
    options?: { headers?: Readonly<Record<string, string>>; body?: string },
  ): Promise<HttpResponse>;
  close(): void;
}

/** Sends one sampled request (method, path, headers and, for writes, its JSON body). */
export function sendRequest(client: HttpClient, sampled: ConcreteRequest): Promise<HttpResponse> {
  return client.send(sampled.method, sampled.path, {
    headers: sampled.headers,
    ...(sampled.body === undefined ? {} : { body: sampled.body }),
  });
}

export function createHttpClient(baseUrl: string, timeoutMs = 120_000): HttpClient {
  const url = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  return {
    send: (method, path, options = {}) =>
      new Promise((resolve, reject) => {
        const started = performance.now();
        const headers: Record<string, string> = { accept: "application/json", ...options.headers };
        if (options.body !== undefined) {
          headers["content-type"] = "application/json";
          headers["content-length"] = String(Buffer.byteLength(options.body));
        }
        const req = request(
          { host: url.hostname, port: url.port, method, path, headers, agent, timeout: timeoutMs },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("end", () =>
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                body: Buffer.concat(chunks).toString("utf8"),
                latencyMs: performance.now() - started,
              }),
            );
            res.on("error", reject);
          },
        );
        req.on("timeout", () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
        req.on("error", reject);
        req.end(options.body);
      }),
    close: () => agent.destroy(),
  };
}

/**
 * Spreads requests over several clients in turn (one per replica of an API behind a Service). Every
 * request carries the same `host` (unless it names one): a cache key includes the Host header, and a
 * Service hides which pod answers. Closing it closes them all.
 */
export function createRoundRobinClient(clients: readonly HttpClient[], host: string): HttpClient {
  if (clients.length === 0) throw new Error("createRoundRobinClient needs at least one client");
  let next = 0;
  return {
    send: (method, path, options = {}) => {
      const client = clients[next++ % clients.length] as HttpClient;
      return client.send(method, path, { ...options, headers: { host, ...options.headers } });
    },
    close: () => {
      for (const client of clients) client.close();
    },
  };
}
