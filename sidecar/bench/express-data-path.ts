/**
 * What express would cost on the proxy's data path (docs/adr/0030): the same handler, answering the
 * same bytes as an L1 hit does (a ~2 KiB JSON body, Cache-Status, Content-Length), mounted three ways,
 * each in its own child process, loaded by the same autocannon client for the same time:
 *   node-http      createServer(handler), as sidecar/src/proxy/server.ts does today
 *   express-use    createServer(app) with app.use(handler): express's dispatch without routing
 *   express-route  createServer(app) with app.get("/api/items/:id", handler): express's router
 * Prints one line per server and round: req/s, p50, p99. A benchmark, not a test; run it alone, under
 * `flock /tmp/cluster-tier.lock` on a shared machine:
 *   npx tsx --conditions=source sidecar/bench/express-data-path.ts [--seconds 10] [--rounds 1] [--connections 16]
 */
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import express from "express";
import { combine, load } from "./bench-load.js";
import { benchPayload } from "./bench-payload.js";

const KINDS = ["node-http", "express-use", "express-route"] as const;
type Kind = (typeof KINDS)[number];

const body = Buffer.from(JSON.stringify(benchPayload(2048)));

function hit(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, {
    "content-type": "application/json",
    "content-length": body.length,
    "cache-status": "apicache; hit; detail=l1",
  });
  res.end(body);
}

function handlerFor(kind: Kind): (req: IncomingMessage, res: ServerResponse) => void {
  if (kind === "node-http") return hit;
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  if (kind === "express-use") app.use(hit);
  else app.get("/api/items/:id", hit);
  return app;
}

/** The child: serves `kind` on a free loopback port and sends the port to its parent. */
async function serve(kind: Kind): Promise<void> {
  const server = createServer({ keepAliveTimeout: 60_000 }, handlerFor(kind));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  process.send?.({ port: (server.address() as AddressInfo).port });
}

async function measure(kind: Kind, seconds: number, connections: number): Promise<string> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ["--serve", kind], {
    execArgv: process.execArgv,
  });
  try {
    const [message] = (await once(child, "message")) as [{ port: number }];
    const url = `http://127.0.0.1:${message.port}/api/items/7`;
    await load({ url, connections, durationSeconds: 2 }); // warm-up: JIT, keep-alive sockets
    const sample = combine([await load({ url, connections, durationSeconds: seconds })]);
    const rps = Math.round(sample.rps).toLocaleString("en-US");
    return `${kind.padEnd(14)} ${rps.padStart(8)} req/s  p50 ${sample.p50Ms.toFixed(3)} ms  p99 ${sample.p99Ms.toFixed(3)} ms  (${sample.requests} requests, ${sample.failures} failed)`;
  } finally {
    child.kill();
  }
}

const { values } = parseArgs({
  options: {
    serve: { type: "string" },
    seconds: { type: "string", default: "10" },
    rounds: { type: "string", default: "1" },
    connections: { type: "string", default: "16" },
  },
});
if (values.serve) await serve(values.serve as Kind);
else {
  const [seconds, rounds, connections] = [values.seconds, values.rounds, values.connections].map(Number);
  console.log(
    `express on the data path: ${connections} connections, ${seconds} s per server, node ${process.version}`,
  );
  for (let round = 1; round <= (rounds ?? 1); round++)
    for (const kind of KINDS)
      console.log(`round ${round}  ${await measure(kind, seconds ?? 10, connections ?? 16)}`);
}
