import { spawnSync } from "node:child_process";
import { KubeTestkitError } from "../kube/errors.js";

/** One privileged host command (ip, nft, mount, unshare, nsenter), run to completion. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(command: string, args: readonly string[], input?: string): CommandResult {
  const result = spawnSync(command, [...args], { encoding: "utf8", input, timeout: 60_000 });
  if (result.error !== undefined) {
    const missing = (result.error as NodeJS.ErrnoException).code === "ENOENT";
    throw new KubeTestkitError(
      missing ? "APICACHE_ERR_TOOL_MISSING" : "APICACHE_ERR_CLUSTER_STATE",
      missing
        ? `${command} is not installed: run \`make tools\` (it installs the node's Debian packages)`
        : `${command} ${args.join(" ")}: ${result.error.message}`,
      { cause: result.error },
    );
  }
  return { code: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/** Run a command that must succeed; the error quotes what it printed. */
export function must(command: string, args: readonly string[], input?: string): string {
  const result = run(command, args, input);
  if (result.code !== 0) {
    throw new KubeTestkitError(
      "APICACHE_ERR_CLUSTER_STATE",
      `\`${command} ${args.join(" ")}\` failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`,
    );
  }
  return result.stdout;
}

/** Only root can build a node (namespaces, links, mounts, cgroups): say so before anything half-happens. */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new KubeTestkitError(
      "APICACHE_ERR_CLUSTER_STATE",
      "the test cluster needs root (network and mount namespaces, cgroups): run it as root, e.g. in the project's VM or CI",
    );
  }
}
