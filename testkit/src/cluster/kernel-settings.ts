import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";

/**
 * The kernel settings the kubelet changes on start (pkg/kubelet/cm: vm.overcommit_memory,
 * kernel.panic, ...). They are not namespaced, so a test cluster changes them for the whole host: the
 * values from before the first cluster are kept in one record and put back when the last one goes.
 */
export const kubeletKernelSettings = [
  "vm/overcommit_memory",
  "vm/panic_on_oom",
  "kernel/panic",
  "kernel/panic_on_oops",
  "kernel/keys/root_maxkeys",
  "kernel/keys/root_maxbytes",
] as const;

const recordPath = "/run/apicache-test-cluster-kernel-settings.json";

export function readKernelSettings(): Record<string, string> {
  return Object.fromEntries(
    kubeletKernelSettings.map((key) => [key, readFileSync(`/proc/sys/${key}`, "utf8").trim()]),
  );
}

/** Before a kubelet starts: remember the host's values, unless another test cluster already did. */
export function recordKernelSettings(): void {
  if (!existsSync(recordPath)) writeFileSync(recordPath, `${JSON.stringify(readKernelSettings())}\n`);
}

/** When the last test cluster is gone: put the host's values back and forget them. */
export function restoreKernelSettings(): void {
  if (!existsSync(recordPath)) return;
  const saved = JSON.parse(readFileSync(recordPath, "utf8")) as Record<string, string>;
  for (const [key, value] of Object.entries(saved)) writeFileSync(`/proc/sys/${key}`, value);
  rmSync(recordPath);
}
