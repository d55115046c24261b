/**
 * Child process of the sidecar benchmark: a bare `node:http` server on loopback.
 *
 *   floor    — answers every request with one precomputed buffer (the fastest a Node server gets)
 *   upstream — builds the same bytes per request (JSON.stringify of the same data), like a small app
 *
 * Paths under /live/ answer `Cache-Control: no-store` (the sidecar's miss scenario); others
 * `public, max-age=300`. Reports `{ port }` to the parent over IPC.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { benchPayload } from "./bench-payload.js";

const mode = process.argv[2] === "upstream" ? "upstream" : "floor";
const bodyBytes = Number(process.argv[3] ?? "2048");
const data = benchPayload(bodyBytes);
const precomputed = Buffer.from(JSON.stringify(data));

const server = createServer((request, response) => {
  const body = mode === "floor" ? precomputed : Buffer.from(JSON.stringify(data));
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
