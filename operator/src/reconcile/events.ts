import type { CachePolicyStatus } from "@apicache/crds";
import { changedConditions } from "../status/conditions.js";

/** Which Events a status change deserves (never one per resync: only on change). Pure. */
export interface PolicyEvent {
  readonly type: "Normal" | "Warning";
  readonly reason: string;
  readonly message: string;
}

const BAD: Readonly<Record<string, string>> = { Valid: "False", Degraded: "True", Ready: "False" };

export function eventsFor(previous: CachePolicyStatus | undefined, next: CachePolicyStatus): PolicyEvent[] {
  const events: PolicyEvent[] = [];
  const changed = changedConditions(previous?.conditions, next.conditions ?? []);
  const seen = new Set<string>();
  for (const condition of changed) {
    if (BAD[condition.type] !== condition.status || seen.has(condition.reason)) continue;
    seen.add(condition.reason);
    events.push({ type: "Warning", reason: condition.reason, message: condition.message });
  }
  // Not for a new policy's first configuration: its Ready condition (reason ConfigApplied) says it,
  // and an Event too would be one write more per new policy (ADR 0017, section 4). A policy that was
  // invalid and now is applied for the first time gets one, after its InvalidSpec warning.
  if (previous !== undefined && next.configHash !== undefined && next.configHash !== previous.configHash) {
    events.push({
      type: "Normal",
      reason: "ConfigApplied",
      message: `Sidecar configuration ${next.configHash} written; running sidecars pick it up within seconds.`,
    });
  }
  return events;
}
