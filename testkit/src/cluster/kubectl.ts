import { spawn } from "node:child_process";
import { requireTool } from "../kube/tools.js";

/**
 * kubectl and helm against a test cluster, as users run them: each call a process, its output returned,
 * a failure thrown with what the tool printed.
 */
export interface CommandOutput {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runTool(
  command: string,
  args: readonly string[],
  options: { readonly input?: string; readonly env?: NodeJS.ProcessEnv; readonly timeoutMs?: number } = {},
): Promise<CommandOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], {
      env: { ...process.env, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 180_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

async function must(command: string, args: readonly string[], input?: string, env?: NodeJS.ProcessEnv) {
  const result = await runTool(command, args, {
    ...(input === undefined ? {} : { input }),
    ...(env === undefined ? {} : { env }),
  });
  if (result.code !== 0) {
    throw new Error(
      `\`${command.split("/").pop()} ${args.join(" ")}\` failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`,
    );
  }
  return result.stdout;
}

/** `kubectl --kubeconfig <path> …` */
export function kubectl(kubeconfig: string) {
  const bin = requireTool("kubectl");
  return (args: readonly string[], input?: string) => must(bin, ["--kubeconfig", kubeconfig, ...args], input);
}

/** `helm …` (helm 4 unless told otherwise) with KUBECONFIG set. */
export function helm(kubeconfig: string, version: "helm3" | "helm4" = "helm4") {
  const bin = requireTool(version);
  return (args: readonly string[]) => must(bin, args, undefined, { KUBECONFIG: kubeconfig });
}
