// An HTTP client inside the test cluster, driven by the tests through `kubectl port-forward`: it sends
// the requests a test asks for from a pod, so they reach Services by ClusterIP and cluster DNS as any
// client in the cluster would. Plain JavaScript: it runs on the demo API image's node, no build step.
//   POST /request {url, method?, headers?, body?, timeoutMs?}   one request → {status, headers, body, ms}
//   POST /load/start {id, url, ratePerSecond, timeoutMs?}       steady load until stopped
//   POST /load/stop {id}                                        → {sent, ok, failures, statuses, p50, p99}
//   POST /coherence {readUrl, writeUrl, field, rounds, readers, prefix}
//        rounds of: readers parallel reads, one write of field = prefix-round, readers parallel reads;
//        every request on its own connection, so a Service spreads them over its endpoints
//        → {reads, staleReads, hitsBeforeWrites, stale (the first 20), failures, cacheStatuses, ms}
import { createServer, request as httpRequest } from "node:http";

const loads = new Map();

async function send({ url, method = "GET", headers = {}, body, timeoutMs = 10_000 }) {
  const started = performance.now();
  try {
    const res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    return {
      status: res.status,
      headers: Object.fromEntries(res.headers),
      body: text,
      ms: performance.now() - started,
    };
  } catch (error) {
    return {
      status: 0,
      error: String(error?.cause?.code ?? error?.message ?? error),
      ms: performance.now() - started,
    };
  }
}

/** One request on a connection of its own (no keep-alive): a Service picks an endpoint per request. */
function sendAlone({ url, method = "GET", headers = {}, body, timeoutMs = 10_000 }) {
  return new Promise((resolve) => {
    const req = httpRequest(url, { method, headers, agent: false, timeout: timeoutMs }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on("error", (error) => resolve({ status: 0, error: String(error.code ?? error.message) }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (error) => resolve({ status: 0, error: String(error.code ?? error.message) }));
    req.end(body);
  });
}

const cacheStatus = (read) => String(read.headers?.["cache-status"] ?? "none");

/** Reads after a write must show the write, whichever replica answers them. */
async function coherence({ readUrl, writeUrl, field, rounds, readers, prefix }) {
  const result = { reads: 0, staleReads: 0, hitsBeforeWrites: 0, stale: [], failures: [], cacheStatuses: {} };
  const fail = (failure) => {
    if (result.failures.length < 20) result.failures.push(failure);
  };
  const readAll = async () => {
    const reads = await Promise.all(Array.from({ length: readers }, () => sendAlone({ url: readUrl })));
    for (const read of reads) {
      const kind = cacheStatus(read).replace(/;\s*(key|ttl|fwd-status)=[^;]*/g, "");
      result.cacheStatuses[kind] = (result.cacheStatuses[kind] ?? 0) + 1;
      if (read.status !== 200)
        fail({ status: read.status, error: read.error, body: read.body?.slice(0, 200) });
    }
    return reads.filter((read) => read.status === 200);
  };
  const started = Date.now();
  for (let round = 0; round < rounds; round++) {
    const before = await readAll();
    result.hitsBeforeWrites += before.filter((read) => /^apicache; hit/.test(cacheStatus(read))).length;
    const value = `${prefix}-${round}`;
    const body = JSON.stringify({ [field]: value });
    const headers = { "content-type": "application/json" };
    const write = await sendAlone({ url: writeUrl, method: "PUT", headers, body });
    if (write.status !== 200) {
      fail({ write: true, status: write.status, error: write.error });
      continue;
    }
    result.reads += readers;
    for (const read of await readAll()) {
      const got = JSON.parse(read.body)[field];
      if (got === value) continue;
      result.staleReads += 1;
      if (result.stale.length < 20)
        result.stale.push({
          round,
          want: value,
          got,
          cacheStatus: cacheStatus(read),
          at: Date.now() - started,
        });
    }
  }
  return { ...result, ms: Date.now() - started };
}

function percentile(sorted, p) {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function startLoad({ id, url, ratePerSecond, timeoutMs = 5_000 }) {
  const load = { sent: 0, ok: 0, statuses: {}, failures: [], latencies: [], inflight: new Set() };
  const tick = () => {
    load.sent += 1;
    const done = send({ url, timeoutMs }).then((result) => {
      load.latencies.push(result.ms);
      load.statuses[result.status] = (load.statuses[result.status] ?? 0) + 1;
      if (result.status >= 200 && result.status < 400) load.ok += 1;
      else if (load.failures.length < 50)
        load.failures.push({
          at: new Date().toISOString(),
          status: result.status,
          error: result.error,
          body: result.body?.slice(0, 200),
        });
      load.inflight.delete(done);
    });
    load.inflight.add(done);
  };
  load.timer = setInterval(tick, 1000 / ratePerSecond);
  loads.set(id, load);
}

async function stopLoad({ id }) {
  const load = loads.get(id);
  if (load === undefined) return { error: `no load ${id}` };
  clearInterval(load.timer);
  await Promise.all(load.inflight);
  loads.delete(id);
  const sorted = load.latencies.sort((a, b) => a - b);
  return {
    sent: load.sent,
    ok: load.ok,
    statuses: load.statuses,
    failures: load.failures,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
}

const routes = {
  "/request": send,
  "/load/start": async (b) => {
    startLoad(b);
    return { started: b.id };
  },
  "/load/stop": stopLoad,
  "/coherence": coherence,
};

createServer(async (req, res) => {
  if (req.url === "/healthz") return res.end("ok");
  const route = routes[req.url ?? ""];
  if (req.method !== "POST" || route === undefined) {
    res.statusCode = 404;
    return res.end();
  }
  let raw = "";
  for await (const chunk of req) raw += chunk;
  const result = await route(JSON.parse(raw || "{}"));
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify(result));
}).listen(8080, "0.0.0.0");
