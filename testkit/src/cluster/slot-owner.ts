import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { KubeTestkitError } from "../kube/errors.js";
import { runningComponents } from "./component-specs.js";
import { clusterLayout } from "./layout.js";
import {
  judgeSlotClaim,
  parseSlotRecord,
  type SlotClaim,
  type SlotRecord,
  slotTakenMessage,
} from "./slot-claim.js";

/**
 * The host's record of which state directory owns each slot: `/run/apicache-test-cluster-slot-<N>.json`
 * (see slot-claim.ts). Written by `up` before it changes anything, removed by `down` at the end.
 */
const recordDir = "/run";
const recordPrefix = "apicache-test-cluster-slot-";

export const slotRecordPath = (slot: number): string => `${recordDir}/${recordPrefix}${slot}.json`;

function readSlotRecord(slot: number): SlotRecord | undefined {
  try {
    return parseSlotRecord(readFileSync(slotRecordPath(slot), "utf8"));
  } catch {
    return undefined;
  }
}

/** A process's start time (clock ticks since boot, /proc/<pid>/stat field 22): tells a reused pid apart. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function ownerAlive(record: SlotRecord, slot: number): boolean {
  const { starting } = record;
  if (starting !== undefined && processStartTime(starting.pid) === starting.startTime) return true;
  return Object.keys(runningComponents(clusterLayout(record.dir, slot))).length > 0;
}

export interface SlotOwnership {
  readonly claim: SlotClaim;
  /** The directory the record names, if any. */
  readonly owner: string | undefined;
}

export function slotOwnership(slot: number, dir: string): SlotOwnership {
  const record = readSlotRecord(slot);
  const alive = record !== undefined && record.dir !== dir && ownerAlive(record, slot);
  return { claim: judgeSlotClaim(record, dir, alive), owner: record?.dir };
}

/** Throws (changing nothing) when another directory's live cluster holds the slot. */
export function refuseTakenSlot(slot: number, dir: string): SlotOwnership {
  const ownership = slotOwnership(slot, dir);
  if (ownership.claim === "taken") {
    throw new KubeTestkitError(
      "APICACHE_ERR_CLUSTER_STATE",
      slotTakenMessage(slot, ownership.owner ?? "?", dir),
    );
  }
  return ownership;
}

/** Record `dir` as the slot's owner; `starting` marks this process as the one bringing it up. */
export function claimSlot(slot: number, dir: string, starting: boolean): void {
  const startTime = processStartTime(process.pid);
  const record: SlotRecord =
    starting && startTime !== undefined ? { dir, starting: { pid: process.pid, startTime } } : { dir };
  writeFileSync(slotRecordPath(slot), `${JSON.stringify(record)}\n`);
}

/** Forget the slot's owner, if it is `dir`. */
export function releaseSlot(slot: number, dir: string): void {
  if (readSlotRecord(slot)?.dir === dir) rmSync(slotRecordPath(slot), { force: true });
}

/** The slot the records say `dir` owns (for a directory whose cluster.json is gone or broken). */
export function slotOwnedBy(dir: string): number | undefined {
  for (const name of readdirSync(recordDir)) {
    const slot = new RegExp(`^${recordPrefix}(\\d+)\\.json$`).exec(name)?.[1];
    if (slot !== undefined && readSlotRecord(Number(slot))?.dir === dir) return Number(slot);
  }
  return undefined;
}
