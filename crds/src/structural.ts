import { KindGuard, type TSchema } from "@sinclair/typebox";
import { type ValueError, ValueErrorType } from "@sinclair/typebox/errors";
import { Value } from "@sinclair/typebox/value";
import { childPath, type Problem, pointerToPath } from "./problems.js";
import { rulesOf } from "./rules.js";

/**
 * The checks the API server makes, in TypeScript: the structural schema (types, required and unknown
 * fields, enums, patterns, bounds), list semantics (`x-kubernetes-list-type` set/map: no duplicates)
 * and the CEL rules' TypeScript halves. Messages follow the API server's wording so the same
 * substring identifies a problem in both places.
 */
export function structuralProblems(schema: TSchema, value: unknown): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(schema, value)) {
    const path = pointerToPath(error.path);
    if (seen.has(path)) continue;
    seen.add(path);
    problems.push({ path, message: describe(error) });
  }
  // Valid as a whole: every subtree is, and the rules need no check of their own.
  walk(schema, value, "", { problems, valid: problems.length === 0 });
  return problems;
}

function describe(error: ValueError): string {
  const schema = error.schema as Record<string, unknown>;
  switch (error.type) {
    case ValueErrorType.ObjectAdditionalProperties:
      return `unknown field ${JSON.stringify(error.path.split("/").at(-1))}`;
    case ValueErrorType.ObjectRequiredProperty:
      return "Required value";
    case ValueErrorType.Kind:
    case ValueErrorType.Literal:
      return unsupported(error.value, (schema.enum as unknown[]) ?? [schema.const]);
    case ValueErrorType.StringPattern:
      return `should match '${String(schema.pattern)}'`;
    case ValueErrorType.StringMaxLength:
      return `may not be longer than ${String(schema.maxLength)}`;
    case ValueErrorType.StringMinLength:
      return `should be at least ${String(schema.minLength)} chars long`;
    case ValueErrorType.ArrayMaxItems:
      return `must have at most ${String(schema.maxItems)} items`;
    case ValueErrorType.ArrayMinItems:
      return `must have at least ${String(schema.minItems)} items`;
    case ValueErrorType.Union:
      return schema["x-kubernetes-int-or-string"] === true
        ? intOrString(schema, error.value)
        : "must be an integer or a string";
    default:
      return error.message.replace(/^Expected/, "must be");
  }
}

/** The API server's message for the int-or-string value validation a value fails (kinds.ts). */
function intOrString(schema: Record<string, unknown>, value: unknown): string {
  if (typeof value === "number") {
    if (!Number.isInteger(value)) return "must be an integer or a string";
    if (typeof schema.minimum === "number" && value < schema.minimum)
      return `should be greater than or equal to ${schema.minimum}`;
    return `should be less than or equal to ${String(schema.maximum)}`;
  }
  if (typeof value !== "string") return "must be an integer or a string";
  if (typeof schema.maxLength === "number" && value.length > schema.maxLength)
    return `may not be longer than ${schema.maxLength}`;
  return `should match '${String(schema.pattern)}'`;
}

function unsupported(value: unknown, allowed: unknown[]): string {
  const list = allowed.map((v) => JSON.stringify(v)).join(", ");
  return `Unsupported value: ${JSON.stringify(value)}: supported values: ${list}`;
}

/** Where the walk reports, and whether the whole value passed the schema (then every subtree did). */
interface Found {
  readonly problems: Problem[];
  readonly valid: boolean;
}

function walk(schema: TSchema, value: unknown, path: string, found: Found): void {
  const { problems, valid } = found;
  if (value === undefined) return;
  const rules = rulesOf(schema);
  // Checked only where a rule needs it: a check per node re-validated every subtree at each level
  // above it, a fifth of the operator's CPU while 5,000 policies were parsed (ADR 0017, section 6).
  if (rules.length > 0 && (valid || Value.Check(schema, value))) {
    for (const rule of rules) {
      if (!rule.check(value))
        problems.push({ path: childPath(path, rule.fieldPath ?? ""), message: rule.message });
    }
  }
  if (KindGuard.IsObject(schema) && isRecord(value)) {
    for (const [key, child] of Object.entries(schema.properties))
      walk(child, value[key], childPath(path, key), found);
  } else if (KindGuard.IsArray(schema) && Array.isArray(value)) {
    duplicates(schema, value, path, problems);
    for (const [index, item] of value.entries()) walk(schema.items, item, childPath(path, index), found);
  }
}

/** `x-kubernetes-list-type: set` and `map` forbid duplicates; the API server says "Duplicate value". */
function duplicates(schema: TSchema, list: unknown[], path: string, problems: Problem[]): void {
  const listType = schema["x-kubernetes-list-type"];
  if (listType !== "set" && listType !== "map") return;
  const keys = (schema["x-kubernetes-list-map-keys"] as string[] | undefined) ?? [];
  const identity = (item: unknown) =>
    listType === "set"
      ? JSON.stringify(item)
      : JSON.stringify(keys.map((k) => (isRecord(item) ? item[k] : item)));
  const seen = new Set<string>();
  for (const [index, item] of list.entries()) {
    const id = identity(item);
    if (seen.has(id)) {
      const shown = listType === "set" ? JSON.stringify(item) : describeKeys(keys, item);
      problems.push({ path: childPath(path, index), message: `Duplicate value: ${shown}` });
    }
    seen.add(id);
  }
}

function describeKeys(keys: string[], item: unknown): string {
  return keys.map((k) => `${k} ${JSON.stringify(isRecord(item) ? item[k] : undefined)}`).join(", ");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
