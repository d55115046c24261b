/**
 * Who owns a slot (pure). Two state directories on one slot would share one network namespace, one
 * veth pair and one cgroup root, so `up` and `down` of one would wreck the other: the host keeps one
 * record per slot naming the directory that holds it (slot-owner.ts), and a directory may use a slot
 * only when the record is missing, names that directory, or names one whose cluster is gone.
 */
export interface SlotRecord {
  /** The state directory that owns the slot. */
  readonly dir: string;
  /** While `up` runs, before any component does: the process starting it (pid and start time). */
  readonly starting?: { readonly pid: number; readonly startTime: string };
}

export function parseSlotRecord(text: string): SlotRecord | undefined {
  try {
    const value = JSON.parse(text) as { dir?: unknown; starting?: { pid?: unknown; startTime?: unknown } };
    if (typeof value.dir !== "string" || value.dir === "") return undefined;
    const { pid, startTime } = value.starting ?? {};
    return typeof pid === "number" && typeof startTime === "string"
      ? { dir: value.dir, starting: { pid, startTime } }
      : { dir: value.dir };
  } catch {
    return undefined;
  }
}

/**
 * - `free`: no record (or an unreadable one);
 * - `ours`: the record names `dir`;
 * - `stale`: it names another directory none of whose processes runs: that cluster is gone, the slot
 *   may be taken over once its leftovers are removed;
 * - `taken`: another directory's cluster runs there (or is starting).
 */
export type SlotClaim = "free" | "ours" | "stale" | "taken";

export function judgeSlotClaim(record: SlotRecord | undefined, dir: string, ownerAlive: boolean): SlotClaim {
  if (record === undefined) return "free";
  if (record.dir === dir) return "ours";
  return ownerAlive ? "taken" : "stale";
}

export function slotTakenMessage(slot: number, owner: string, dir: string): string {
  return (
    `slot ${slot} belongs to the running cluster in ${owner}, not to ${dir}: nothing was changed. ` +
    `Use another slot (--slot N), or stop that cluster first (cli.ts down --dir ${owner} --slot ${slot})`
  );
}
