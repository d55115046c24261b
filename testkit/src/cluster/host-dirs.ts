import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { run } from "./host.js";

/**
 * Host folders that tools make on first use: `ip netns add` makes /run/netns (and turns it into a
 * shared bind mount of itself), `mount` makes /run/mount. Whether each existed before the FIRST test
 * cluster is kept in one host-wide record (like kernel-settings.ts), so that with clusters overlapping
 * in time (slot 5 up, slot 6 up, 5 down, 6 down) the LAST one to go removes what the first one found
 * missing — not whichever happened to create it.
 */
export interface HostDirsRecordOptions {
  readonly recordPath: string;
  readonly dirs: readonly string[];
}

const defaults: HostDirsRecordOptions = {
  recordPath: "/run/apicache-test-cluster-host-dirs.json",
  dirs: ["/run/netns", "/run/mount"],
};

/** Before a cluster creates anything: note which folders are missing, unless another cluster did. */
export function recordHostDirs(options: HostDirsRecordOptions = defaults): void {
  if (existsSync(options.recordPath)) return;
  const missing = options.dirs.filter((dir) => !existsSync(dir));
  writeFileSync(options.recordPath, `${JSON.stringify({ missing })}\n`);
}

function recordedMissing(recordPath: string): string[] {
  try {
    const { missing } = JSON.parse(readFileSync(recordPath, "utf8")) as { missing?: unknown };
    return Array.isArray(missing) ? missing.filter((dir): dir is string => typeof dir === "string") : [];
  } catch {
    return [];
  }
}

const isMountPoint = (path: string): boolean =>
  readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .some((line) => line.split(" ")[4] === path);

/** Remove a folder we created, once empty (unmounting it first if `ip netns` made it a mount point). */
function removeIfEmpty(path: string): boolean {
  try {
    if (readdirSync(path).length > 0) return false;
    for (let i = 0; i < 5 && isMountPoint(path); i++) run("umount", [path]);
    rmdirSync(path);
    return true;
  } catch {
    return false; // already gone, or busy: left as it is
  }
}

/** When the last test cluster is gone: remove the folders the first one found missing; forget the record. */
export function restoreHostDirs(options: HostDirsRecordOptions = defaults): string[] {
  if (!existsSync(options.recordPath)) return [];
  const removed = recordedMissing(options.recordPath)
    .filter((dir) => options.dirs.includes(dir))
    .filter(removeIfEmpty);
  rmSync(options.recordPath, { force: true });
  return removed;
}
