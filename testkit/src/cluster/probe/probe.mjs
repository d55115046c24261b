// An HTTP client inside the test cluster, driven by the tests through `kubectl port-forward`: it sends
// the requests a test asks for from a pod, so they reach Services by ClusterIP and cluster DNS as any
// client in the cluster would. Plain JavaScript: it runs on the demo API image's node, no build step.
//   POST /request {url, method?, headers?, body?, timeoutMs?}   one request → {status, headers, body, ms}
//   POST /load/start {id, url, ratePerSecond, timeoutMs?}       steady load until stopped
//   POST /load/stop {id}                                        → {sent, ok, failures, statuses, p50, p99}
import { createServer } from "node:http";

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
