import type { Condition } from "@apicache/crds";

/**
 * metav1.Condition bookkeeping, pure: a condition's lastTransitionTime moves only when its status
 * does; reason, message and observedGeneration are always the latest.
 */
export type ConditionStatus = "True" | "False" | "Unknown";

export interface DesiredCondition {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
}

export function setConditions(
  previous: readonly Condition[] | undefined,
  desired: readonly DesiredCondition[],
  context: { readonly generation: number; readonly now: Date },
): Condition[] {
  return desired.map((condition) => {
    const before = previous?.find((c) => c.type === condition.type);
    const lastTransitionTime =
      before && before.status === condition.status ? before.lastTransitionTime : formatTime(context.now);
    return { ...condition, observedGeneration: context.generation, lastTransitionTime };
  });
}

/** RFC 3339 with second precision, as metav1.Time serializes. */
export function formatTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string) {
  return conditions?.find((c) => c.type === type);
}

/** Conditions whose status changed (or appeared) between two lists: what deserves an Event. */
export function changedConditions(
  previous: readonly Condition[] | undefined,
  next: readonly Condition[],
): Condition[] {
  return next.filter((condition) => {
    const before = findCondition(previous, condition.type);
    return !before || before.status !== condition.status || before.reason !== condition.reason;
  });
}
