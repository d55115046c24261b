import type { TSchema } from "@sinclair/typebox";

/**
 * A validation rule defined once and enforced twice: as a CEL `x-kubernetes-validations` entry the
 * API server evaluates, and as `check`, the same predicate in TypeScript that `parseCachePolicy` runs.
 * Keeping both halves in one object (and testing the CEL half against a real API server with the
 * same examples) is how the parser and the CRD cannot disagree.
 */
export interface Rule<T = unknown> {
  /** CEL expression over `self`, evaluated by the API server. */
  readonly rule: string;
  /** What is wrong and how to fix it; identical in both places. */
  readonly message: string;
  /** Optional JSONPath (relative to the node) the API server reports instead of the node itself. */
  readonly fieldPath?: string;
  /** The same predicate in TypeScript. `self` has already passed the node's structural schema. */
  readonly check: (self: T) => boolean;
}

interface CelValidation {
  rule: string;
  message: string;
  fieldPath?: string;
}

/** Rules ride on the schema object under a symbol: copies made with `{ ...schema }` keep them, JSON drops them. */
const RULES = Symbol.for("apicache.io/rules");
type WithRules = TSchema & { [RULES]?: readonly Rule[] };

/** Attaches rules to a schema node: emitted into the CRD and run by the parser. */
export function withRules<S extends TSchema>(schema: S, ...rules: Rule<never>[]): S {
  const all = [...rulesOf(schema), ...(rules as Rule[])];
  (schema as WithRules)[RULES] = all;
  const validations: CelValidation[] = all.map(({ rule, message, fieldPath }) =>
    fieldPath === undefined ? { rule, message } : { rule, message, fieldPath },
  );
  Object.assign(schema, { "x-kubernetes-validations": validations });
  return schema;
}

/** The rules attached to a schema node (empty when none). */
export function rulesOf(schema: TSchema): readonly Rule[] {
  return (schema as WithRules)[RULES] ?? [];
}
