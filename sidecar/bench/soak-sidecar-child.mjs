/**
 * Child process of `make soak`: one sidecar (the programmatic `startSidecar` of the tsc build) started
 * as the CLI (src/main.ts) starts it — the policy file read and watched (FilePolicySource), Redis, an
 * admin listener on loopback — with its process metrics on, as the CLI has them (prom-client's
 * defaults: heap, event-loop delay; `processMetrics` in index.ts). Plain JavaScript run
 * by plain node, as the image runs dist/main.js: a TypeScript loader in this process would add tens of
 * MiB to the resident set the soak judges. Logs go to the default logger (info) on stdout, which soak.ts
 * sends to a file. argv: policy file, upstream URL, Redis URL, build (…/sidecar/dist/index.js).
 * Reports `{ url, adminUrl, pid }` over IPC; closes when the parent disconnects.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

const [policyFile = "", upstream = "", redisUrl = "", build = ""] = process.argv.slice(2);
const { startSidecar } = await import(build);
const { FilePolicySource } = await import(join(dirname(build), "reload", "file-source.js"));
const { createLogger } = await import(join(dirname(build), "telemetry", "logger.js"));

const policy = readFileSync(policyFile, "utf8");
// The source's own lines (a reload applied or refused) at the sidecar's default level.
const source = new FilePolicySource(policyFile, createLogger("info"));
source.seed(policy);
const sidecar = await startSidecar({
  policy,
  policyOrigin: source.name,
  upstream,
  redisUrl,
  admin: { host: "127.0.0.1", port: 0 },
  sources: [source],
});
process.send?.({ url: sidecar.url, adminUrl: sidecar.adminUrl, pid: process.pid });
process.on("disconnect", () => {
  void sidecar.close({ drainMs: 1_000 }).finally(() => process.exit(0));
});
