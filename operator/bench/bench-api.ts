import { Agent, type RequestOptions, request } from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";

/**
 * The benchmark's own API client: raw JSON over one keep-alive HTTPS pool with the kubeconfig's
 * credentials. Creating 15,000 objects through client-node's typed serializer, or one TLS handshake
 * per request, would spend the cores the API server and the operator are being measured on.
 */
export interface BenchApi {
  /** GET; the body as text (Prometheus text for /metrics). */
  getText(path: string): Promise<string>;
  getJson<T>(path: string): Promise<T>;
  /** POST a JSON body; resolves with the response body (2xx), rejects on anything else. */
  post(path: string, body: unknown): Promise<string>;
  /**
   * Streams watch events (one JSON object a line) to `onEvent` until `stop()` or the server ends the
   * watch; `ended` then resolves with the last resourceVersion seen.
   */
  watch(path: string, onEvent: (event: WatchEvent) => void): { stop(): void; ended: Promise<void> };
  close(): void;
}

export interface WatchEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  readonly object: { metadata?: { resourceVersion?: string } } & Record<string, unknown>;
}

export async function benchApi(kubeConfig: KubeConfig, maxSockets = 64): Promise<BenchApi> {
  const server = new URL(kubeConfig.getCurrentCluster()?.server ?? "");
  const tls: RequestOptions = {};
  await kubeConfig.applyToHTTPSOptions(tls);
  const agent = new Agent({ keepAlive: true, maxSockets, ca: tls.ca, cert: tls.cert, key: tls.key });
  const options = (method: string, path: string, headers: Record<string, string>): RequestOptions => ({
    method,
    hostname: server.hostname,
    port: server.port,
    path,
    agent,
    headers: { accept: "application/json", ...headers },
  });
  const send = (method: string, path: string, body?: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const headers: Record<string, string> =
        body === undefined ? {} : { "content-type": "application/json" };
      const req = request(options(method, path, headers), (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString("utf8");
          if (status >= 200 && status < 300) resolve({ status, text });
          else reject(new Error(`${method} ${path}: HTTP ${status}: ${text.slice(0, 500)}`));
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(body);
    });
  return {
    getText: async (path) => (await send("GET", path)).text,
    getJson: async <T>(path: string) => JSON.parse((await send("GET", path)).text) as T,
    post: async (path, body) => (await send("POST", path, JSON.stringify(body))).text,
    watch: (path, onEvent) => {
      let stopped = false;
      let req: ReturnType<typeof request> | undefined;
      const ended = new Promise<void>((resolve, reject) => {
        req = request(options("GET", path, {}), (res) => {
          if (res.statusCode !== 200) {
            reject(new Error(`watch ${path}: HTTP ${res.statusCode}`));
            res.resume();
            return;
          }
          let buffered = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            buffered += chunk;
            for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
              const line = buffered.slice(0, nl);
              buffered = buffered.slice(nl + 1);
              if (line.trim()) onEvent(JSON.parse(line) as WatchEvent);
            }
          });
          res.on("end", () => resolve());
          res.on("error", (error) => (stopped ? resolve() : reject(error)));
        });
        req.on("error", (error) => (stopped ? resolve() : reject(error)));
        req.end();
      });
      return {
        stop: () => {
          stopped = true;
          req?.destroy();
        },
        ended,
      };
    },
    close: () => agent.destroy(),
  };
}
