import { Kind, type TSchema, Type, TypeRegistry } from "@sinclair/typebox";
import { DURATION_PATTERN, parseDuration } from "./duration.js";
import { QUANTITY_PATTERN, RESOURCE_QUANTITY_PATTERN } from "./quantity.js";
import { withRules } from "./rules.js";

/** Small schema builders shared by the CachePolicy schema: one definition per recurring shape. */

export interface TStringEnum<T extends string> extends TSchema {
  [Kind]: "StringEnum";
  static: T;
  type: "string";
  enum: readonly T[];
}

TypeRegistry.Set<TStringEnum<string>>("StringEnum", (schema, value) => {
  return typeof value === "string" && schema.enum.includes(value);
});

interface Doc {
  description: string;
  default?: unknown;
  example?: unknown;
}

/** A string enum, emitted as `type: string, enum: [...]` (what structural schemas want). */
export function StringEnum<T extends string>(values: readonly T[], doc: Doc): TStringEnum<T> {
  return { [Kind]: "StringEnum", type: "string", enum: values, ...doc } as TStringEnum<T>;
}

/** A lowercase RFC 1123 label: route names, rule names, Kubernetes object names. */
export function DnsLabel(doc: Doc) {
  return Type.String({ minLength: 1, maxLength: 63, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", ...doc });
}

/** An HTTP header name (RFC 9110 token). */
export function HeaderName(doc: Doc) {
  return Type.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$", ...doc });
}

const DURATION_MESSAGE = "must be a duration such as 500ms, 30s, 5m or 1h30m";

/** A duration string with inclusive bounds, both checked by CEL and by the parser. */
export function Duration(bounds: { min: string; max: string }, doc: Doc) {
  const min = parseDuration(bounds.min) as number;
  const max = parseDuration(bounds.max) as number;
  const isDuration = `self.matches('${DURATION_PATTERN}')`;
  return withRules(
    Type.String({ maxLength: 32, ...doc }),
    {
      rule: isDuration,
      message: DURATION_MESSAGE,
      check: (self: string) => parseDuration(self) !== undefined,
    },
    {
      rule: `!${isDuration} || (duration(self) >= duration('${bounds.min}') && duration(self) <= duration('${bounds.max}'))`,
      message: `must be between ${bounds.min} and ${bounds.max}`,
      check: (self: string) => {
        const ms = parseDuration(self);
        return ms === undefined || (ms >= min && ms <= max);
      },
    },
  );
}

/**
 * An int-or-string field checked by OpenAPI value validations alone — bounds for the number, a
 * pattern and a length for the string (each applies only to its own type) — not by CEL: the API
 * server's CEL cost estimate for int-or-string values ignores maxLength on Kubernetes 1.31 and
 * earlier, and a regex rule on each route's field took the CRD over the budget there.
 */
function IntOrString(
  number: { minimum: number; maximum?: number },
  string: { pattern: string; maxLength: number },
  doc: Doc,
) {
  return Type.Union([Type.Integer(number), Type.String(string)], {
    "x-kubernetes-int-or-string": true,
    ...number,
    ...string,
    ...doc,
  });
}

/** A byte size: an integer or a quantity string like "64Mi". */
export function ByteSize(doc: Doc) {
  return IntOrString({ minimum: 0 }, { pattern: QUANTITY_PATTERN, maxLength: 32 }, doc);
}

/** A Kubernetes resource quantity (cpu or memory): an integer or a string like "500m" or "256Mi". */
export function ResourceQuantity(doc: Doc) {
  return IntOrString({ minimum: 0 }, { pattern: RESOURCE_QUANTITY_PATTERN, maxLength: 32 }, doc);
}

/** IANA service names (container port names): a-z, 0-9 and single inner dashes, at least one letter. */
export const PORT_NAME_PATTERN = "^([a-z0-9]+-)*[a-z0-9]*[a-z][a-z0-9]*(-[a-z0-9]+)*$";

/** A container port: a number 1-65535 or a container port's name (≤ 15 characters). */
export function PortRef(doc: Doc) {
  return IntOrString({ minimum: 1, maximum: 65535 }, { pattern: PORT_NAME_PATTERN, maxLength: 15 }, doc);
}

/** A list with set semantics (no duplicates), bounded so CEL cost estimates stay finite. */
export function SetOf<T extends TSchema>(items: T, maxItems: number, doc: Doc) {
  return Type.Array(items, { maxItems, "x-kubernetes-list-type": "set", ...doc });
}
