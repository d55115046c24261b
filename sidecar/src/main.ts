#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { formatProblems } from "@apicache/crds";
import { type Config, parseConfig, USAGE } from "./config.js";
import { ERROR_CODES } from "./errors.js";
import { type Sidecar, startSidecar } from "./index.js";
import { onUnhandledRejection } from "./process-guard.js";
import { ConfigMapPolicySource } from "./reload/configmap-source.js";
import { FilePolicySource } from "./reload/file-source.js";
import type { PolicySource } from "./reload/policy-source.js";
import { createLogger, type Logger } from "./telemetry/logger.js";

/** The apicache-sidecar binary: a thin shell around startSidecar (see index.ts). */
async function main(): Promise<void> {
  const parsed = parseConfig(process.argv.slice(2), process.env);
  if (!parsed.ok) {
    if (parsed.help) {
      console.log(USAGE);
      process.exit(0);
    }
    console.error(`apicache-sidecar: ${ERROR_CODES.CONFIG}: invalid flags or environment:`);
    for (const problem of parsed.problems) console.error(`  - ${problem}`);
    console.error(`\n${USAGE}`);
    process.exit(2);
  }
  const config = parsed.config;
  const log = createLogger(config.logLevel);
  process.on("unhandledRejection", (reason) =>
    onUnhandledRejection(reason, { log, exit: (code) => process.exit(code) }),
  );
  const sidecar = await start(config, log);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(
      { signal, shutdownDelayMs: config.shutdownDelayMs, drainTimeoutMs: config.drainTimeoutMs },
      "shutting down: not ready, serving on until endpoints catch up, then draining",
    );
    sidecar
      .close({ delayMs: config.shutdownDelayMs, drainMs: config.drainTimeoutMs })
      .then(() => {
        log.info("stopped");
        process.exit(0);
      })
      .catch((error: unknown) => {
        log.error({ err: error }, "shutdown failed");
        process.exit(1);
      });
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

async function start(config: Readonly<Config>, log: Logger): Promise<Sidecar> {
  const sources: PolicySource[] = [];
  let policy: string | undefined;
  if (config.policyFile) {
    policy = readText(config.policyFile, "--policy", log);
    const file = new FilePolicySource(config.policyFile, log);
    file.seed(policy);
    sources.push(file);
  }
  if (config.policyConfigMap) {
    const configMap = new ConfigMapPolicySource(
      { ...config.policyConfigMap, ...(config.kubeconfig ? { kubeconfig: config.kubeconfig } : {}) },
      log,
    );
    if (policy === undefined) policy = await firstText(configMap, log);
    sources.push(configMap);
  }
  try {
    return await startSidecar({
      policy: policy as string,
      policyOrigin: sources[0]?.name ?? "the policy",
      upstream: config.upstream,
      listen: config.listen,
      admin: config.admin,
      ...(config.adminTokenFile
        ? { adminTokenFile: { path: config.adminTokenFile, wait: config.adminTokenWait } }
        : {}),
      adminInsecure: config.adminInsecure,
      ...(config.redisUrl ? { redisUrl: config.redisUrl } : {}),
      logger: log,
      processMetrics: true,
      sources,
      upstreamConnections: config.upstreamConnections,
      upstreamQueueTimeoutMs: config.upstreamQueueTimeoutMs,
      limits: { clientWriteTimeoutMs: config.clientWriteTimeoutMs },
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const listen = code === "EADDRINUSE" || code === "EACCES";
    log.fatal(
      { err: error, code: listen ? ERROR_CODES.LISTEN : code },
      listen
        ? `cannot listen: ${(error as Error).message}; pick another port`
        : `cannot start: ${(error as Error).message}`,
    );
    process.exit(1);
  }
}

function readText(path: string, flag: string, log: Logger): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    log.fatal(
      { err: error, code: ERROR_CODES.POLICY_READ, path },
      `cannot read ${flag} ${path}: ${(error as Error).message}`,
    );
    process.exit(1);
  }
}

/**
 * Without --policy, the first ConfigMap read is the starting policy. The source's retry timers are
 * unref'd (they must not hold a running sidecar open), so until the first read arrives a ref'd timer
 * keeps the process alive: otherwise an API server that is not reachable yet would make the sidecar
 * exit with status 0 while it waits.
 */
function firstText(source: PolicySource, log: Logger): Promise<string> {
  return new Promise((resolve) => {
    log.info({ source: source.name }, "waiting for the policy ConfigMap");
    const keepAlive = setInterval(() => undefined, 60_000);
    source.start((text) => {
      clearInterval(keepAlive);
      source.stop();
      resolve(text);
    });
  });
}

main().catch((error: unknown) => {
  const problems = (error as { problems?: Parameters<typeof formatProblems>[0] }).problems;
  console.error(`apicache-sidecar: ${problems ? formatProblems(problems) : (error as Error).stack}`);
  process.exit(1);
});
