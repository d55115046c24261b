import type { LabelSelector } from "@apicache/crds";

/**
 * Label selectors as the API server evaluates them (metav1.LabelSelector), plus the question the
 * controller asks of two selectors: can one pod match both? Pure.
 */
export type Labels = Readonly<Record<string, string>>;

type Requirement = NonNullable<LabelSelector["matchExpressions"]>[number];

function requirements(selector: LabelSelector): Requirement[] {
  const fromLabels = Object.entries(selector.matchLabels ?? {}).map(
    ([key, value]): Requirement => ({ key, operator: "In", values: [value] }),
  );
  return [...fromLabels, ...(selector.matchExpressions ?? [])];
}

function holds(requirement: Requirement, labels: Labels): boolean {
  const present = Object.hasOwn(labels, requirement.key);
  const value = labels[requirement.key];
  switch (requirement.operator) {
    case "In":
      return present && (requirement.values ?? []).includes(value as string);
    case "NotIn":
      return !present || !(requirement.values ?? []).includes(value as string);
    case "Exists":
      return present;
    case "DoesNotExist":
      return !present;
    default:
      return false;
  }
}

/** True when the labels satisfy every requirement. An empty selector matches nothing (our API forbids it). */
export function selectorMatches(selector: LabelSelector, labels: Labels | undefined): boolean {
  const all = requirements(selector);
  if (all.length === 0) return false;
  return all.every((requirement) => holds(requirement, labels ?? {}));
}

/** What one label key must satisfy when two selectors are combined. */
interface KeyConstraint {
  allowed?: Set<string>;
  forbidden: Set<string>;
  mustExist: boolean;
  mustNotExist: boolean;
}

function constrain(constraint: KeyConstraint, requirement: Requirement): void {
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case "In": {
      const allowed = constraint.allowed;
      constraint.allowed = new Set(allowed ? values.filter((v) => allowed.has(v)) : values);
      constraint.mustExist = true;
      return;
    }
    case "NotIn":
      for (const value of values) constraint.forbidden.add(value);
      return;
    case "Exists":
      constraint.mustExist = true;
      return;
    case "DoesNotExist":
      constraint.mustNotExist = true;
      return;
  }
}

/** A value satisfying the constraint: null for "label absent", undefined when none exists. */
function witnessValue(constraint: KeyConstraint): string | null | undefined {
  if (constraint.mustNotExist) return constraint.mustExist ? undefined : null;
  if (constraint.allowed) {
    return [...constraint.allowed].sort().find((value) => !constraint.forbidden.has(value));
  }
  if (!constraint.mustExist) return null;
  let candidate = "x";
  while (constraint.forbidden.has(candidate)) candidate += "x";
  return candidate;
}

/**
 * Whether some pod could match both selectors; when it can, an example label set it would carry
 * (used in the OverlappingSelector message). Exact for the four metav1 operators.
 */
export function selectorsOverlap(a: LabelSelector, b: LabelSelector): Labels | undefined {
  const all = [...requirements(a), ...requirements(b)];
  if (requirements(a).length === 0 || requirements(b).length === 0) return undefined;
  const byKey = new Map<string, KeyConstraint>();
  for (const requirement of all) {
    let constraint = byKey.get(requirement.key);
    if (!constraint) {
      constraint = { forbidden: new Set(), mustExist: false, mustNotExist: false };
      byKey.set(requirement.key, constraint);
    }
    constrain(constraint, requirement);
  }
  const witness: Record<string, string> = {};
  for (const [key, constraint] of [...byKey].sort(([x], [y]) => x.localeCompare(y))) {
    const value = witnessValue(constraint);
    if (value === undefined) return undefined;
    if (value !== null) witness[key] = value;
  }
  return witness;
}

/** `app=a,tier=web` */
export function formatLabels(labels: Labels): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(",");
}
