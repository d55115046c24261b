import { type CachePolicy, formatProblems, type LabelSelector, parseCachePolicy } from "@apicache/crds";
import { formatLabels, type Labels, selectorMatches, selectorsOverlap } from "./selector.js";
import { creationMillis, identityOf, type PolicyIdentity, type StoredPolicy } from "./types.js";

/**
 * Validation beyond the schema, for every policy of one namespace at once: the parser's semantic
 * problems, then overlapping selectors (the oldest policy wins; ties by name). Pure and
 * deterministic: the same objects give the same verdicts whatever order they arrive in.
 */
export type Verdict =
  | { readonly valid: true; readonly policy: CachePolicy; readonly stored: PolicyIdentity }
  | {
      readonly valid: false;
      readonly reason: "InvalidSpec" | "OverlappingSelector";
      readonly message: string;
      readonly stored: PolicyIdentity;
    };

/** The longest policy name whose derived object names (`apicache-<name>`) stay valid. */
export const MAX_POLICY_NAME = 253 - "apicache-".length;

/** Parses one stored policy (schema + semantic checks); no cross-policy checks. */
export function parseStored(stored: StoredPolicy): Verdict {
  const { status: _status, ...manifest } = stored;
  const result = parseCachePolicy(manifest);
  const identity = identityOf(stored);
  if (!result.ok) {
    return {
      valid: false,
      reason: "InvalidSpec",
      message: formatProblems(result.problems),
      stored: identity,
    };
  }
  const name = stored.metadata.name ?? "";
  if (name.length > MAX_POLICY_NAME) {
    const message = `metadata.name: must be at most ${MAX_POLICY_NAME} characters (the operator derives apicache-<name> from it)`;
    return { valid: false, reason: "InvalidSpec", message, stored: identity };
  }
  return { valid: true, policy: result.policy, stored: identity };
}

/** Oldest first, then by name: the order in which overlapping policies win. */
export function precedence(a: PolicyIdentity, b: PolicyIdentity): number {
  const byAge = creationMillis(a) - creationMillis(b);
  if (byAge !== 0) return byAge;
  return (a.metadata.name ?? "").localeCompare(b.metadata.name ?? "");
}

/** Cheap disjointness test: both require the same label key with different single values. */
function obviouslyDisjoint(a: LabelSelector, b: LabelSelector): boolean {
  const left = a.matchLabels ?? {};
  const right = b.matchLabels ?? {};
  for (const [key, value] of Object.entries(left)) {
    const other = right[key];
    if (other !== undefined && other !== value) return true;
  }
  return false;
}

export function overlapWitness(a: LabelSelector, b: LabelSelector): Labels | undefined {
  if (obviouslyDisjoint(a, b)) return undefined;
  return selectorsOverlap(a, b);
}

/**
 * Resolves overlaps among already-parsed verdicts of one namespace. A policy loses when its selector
 * overlaps that of an earlier (older) winner; losers do not knock out later policies.
 */
export function resolveOverlaps(parsed: readonly Verdict[]): Map<string, Verdict> {
  const out = new Map<string, Verdict>();
  const winners: Extract<Verdict, { valid: true }>[] = [];
  for (const verdict of [...parsed].sort((a, b) => precedence(a.stored, b.stored))) {
    const name = verdict.stored.metadata.name ?? "";
    if (!verdict.valid) {
      out.set(name, verdict);
      continue;
    }
    const selector = verdict.policy.spec.selector;
    let lost: Verdict | undefined;
    for (const winner of winners) {
      const witness = overlapWitness(winner.policy.spec.selector, selector);
      if (witness === undefined) continue;
      const message = `spec.selector overlaps CachePolicy ${winner.policy.metadata.name}'s (a pod labelled ${formatLabels(witness)} would match both); ${winner.policy.metadata.name} is older and wins. Make the selectors disjoint.`;
      lost = { valid: false, reason: "OverlappingSelector", message, stored: verdict.stored };
      break;
    }
    if (lost) {
      out.set(name, lost);
    } else {
      winners.push(verdict);
      out.set(name, verdict);
    }
  }
  return out;
}

/** The valid policy (if any) whose selector matches a pod's labels. */
export function policyForPod(
  verdicts: Iterable<Verdict>,
  labels: Labels | undefined,
): Extract<Verdict, { valid: true }> | undefined {
  const matching = [...verdicts].filter(
    (v): v is Extract<Verdict, { valid: true }> => v.valid && selectorMatches(v.policy.spec.selector, labels),
  );
  return matching.sort((a, b) => precedence(a.stored, b.stored))[0];
}
