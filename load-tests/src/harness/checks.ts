/**
 * The consistency check after a write: a read issued after the write's successful response must not
 * show the old data. Pure: given the write's response body and the read's, say whether the read was
 * stale.
 */
export interface CheckOutcome {
  readonly stale: boolean;
  /** False when the read cannot tell (e.g. the item is absent): not counted either way. */
  readonly verifiable: boolean;
  readonly detail: string;
}

type Json = Record<string, unknown>;

export function evaluateCheck(
  kind: "version" | "slot-taken",
  item: string | undefined,
  written: unknown,
  read: unknown,
): CheckOutcome {
  const w = (written ?? {}) as Json;
  const r = (read ?? {}) as Json;
  if (kind === "version") {
    const source = item
      ? Array.isArray(r[item])
        ? (r[item] as Json[]).find((x) => x.id === w.id)
        : undefined
      : r;
    if (typeof w.version !== "number" || typeof source?.version !== "number") {
      return { stale: false, verifiable: false, detail: "no version to compare" };
    }
    const stale = source.version < w.version;
    return { stale, verifiable: true, detail: `wrote version ${w.version}, read version ${source.version}` };
  }
  const startsAt = typeof w.startsAt === "string" ? w.startsAt : "";
  const time = startsAt.slice(11, 16);
  const slots = Array.isArray(r.slots) ? (r.slots as Json[]) : undefined;
  if (!time || !slots) return { stale: false, verifiable: false, detail: "no slot to compare" };
  const stale = slots.some((slot) => slot.time === time);
  return {
    stale,
    verifiable: true,
    detail: stale ? `booked ${startsAt} is still listed as free` : `booked ${startsAt} is gone`,
  };
}
