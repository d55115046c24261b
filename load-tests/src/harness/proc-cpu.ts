import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * A process's CPU time from /proc/<pid>/stat (Linux): user + system time, in seconds. The capacity
 * bench reads it around a probe to say how much CPU the sidecar (and the demo API) used. Parsing is
 * pure; the field layout is proc(5)'s.
 */
export function parseProcStatTicks(stat: string): number {
  // The command name (field 2) is in parentheses and may hold spaces or ")": split after the last ")".
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime))
    throw new Error(`unexpected /proc stat line: ${stat}`);
  return utime + stime;
}

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const text = execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim();
    ticksPerSecond = Number(text) > 0 ? Number(text) : 100;
  }
  return ticksPerSecond;
}

/** CPU seconds the process has used so far; undefined when it cannot be read (not Linux, gone). */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    return parseProcStatTicks(readFileSync(`/proc/${pid}/stat`, "utf8")) / clockTicks();
  } catch {
    return undefined;
  }
}

/** Average cores used between two readings over a wall-clock interval (1.0 = one core busy). */
export function coresUsed(
  before: number | undefined,
  after: number | undefined,
  wallSeconds: number,
): number {
  if (before === undefined || after === undefined || !(wallSeconds > 0)) return Number.NaN;
  return (after - before) / wallSeconds;
}
