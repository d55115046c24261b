#!/usr/bin/env node
import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { parseConfig, usage } from "./config.js";
import { startOperator } from "./index.js";

const NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(usage());
    return 0;
  }
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig({
      argv,
      env: process.env,
      hostname: hostname(),
      ...(existsSync(NAMESPACE_FILE) ? { inClusterNamespace: readFileSync(NAMESPACE_FILE, "utf8") } : {}),
    });
  } catch (error) {
    console.error(`${(error as { code?: string }).code ?? "error"}: ${(error as Error).message}`);
    return 2;
  }
  const operator = await startOperator(config);
  const signalled = new Promise<{ code: number; reason: string }>((resolve) => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      process.once(signal, () => resolve({ code: 0, reason: signal }));
    }
  });
  const outcome = await Promise.race([operator.done, signalled]);
  if (outcome.reason === "SIGTERM" || outcome.reason === "SIGINT") await operator.stop();
  return outcome.code;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`${(error as { code?: string }).code ?? "error"}: ${(error as Error).message}`);
    process.exit(1);
  },
);
