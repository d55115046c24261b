/**
 * Child process of the sidecar benchmarks: a bare `node:http` server on loopback.
 *
 *   floor     — answers every request with one precomputed buffer (the fastest a Node server gets)
 *   upstream  — builds the same bytes per request (JSON.stringify of the same data), like a small app
 *   versioned — `{ "path", "version" }` per path; a POST/PUT/PATCH/DELETE of a path bumps its version
 *               and answers the new one (bench-multi's invalidation propagation tells old copies by it)
 *
 * Paths under /live/ answer `Cache-Control: no-store` (the sidecar's miss scenario); others
 * `public, max-age=300`. Reports `{ port }` to the parent over IPC.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { benchPayload } from "./bench-payload.js";

const MODES = ["floor", "upstream", "versioned"] as const;
const mode = MODES.find((m) => m === process.argv[2]) ?? "floor";
const bodyBytes = Number(process.argv[3] ?? "2048");
const data = benchPayload(bodyBytes);
const precomputed = Buffer.from(JSON.stringify(data));
const versions = new Map<string, number>();

function versioned(request: IncomingMessage): Buffer {
  const path = request.url ?? "/";
  let version = versions.get(path) ?? 0;
  if (request.method !== "GET" && request.method !== "HEAD") versions.set(path, ++version);
  return Buffer.from(JSON.stringify({ path, version }));
}

const server = createServer((request, response) => {
  const body =
    mode === "floor"
      ? precomputed
      : mode === "versioned"
        ? versioned(request)
        : Buffer.from(JSON.stringify(data));
  const live = request.url?.startsWith("/live/") === true;
  response.writeHead(200, {
    "content-type": "application/json",
    "content-length": body.length,
    "cache-control": live ? "no-store" : "public, max-age=300",
  });
  response.end(body);
});
server.keepAliveTimeout = 60_000;

server.listen(0, "127.0.0.1", () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});

process.on("disconnect", () => server.close(() => process.exit(0)));
