import { Kind, type TSchema, Type, TypeRegistry } from "@sinclair/typebox";
import { DURATION_PATTERN, parseDuration } from "./duration.js";
import { parseQuantity, QUANTITY_PATTERN } from "./quantity.js";
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

/** A byte size: an integer or a quantity string like "64Mi". */
export function ByteSize(doc: Doc) {
  return withRules(
    Type.Union([Type.Integer({ minimum: 0 }), Type.String({ maxLength: 32 })], {
      "x-kubernetes-int-or-string": true,
      maxLength: 32,
      ...doc,
    }),
    {
      rule: `type(self) == int ? self >= 0 : self.matches('${QUANTITY_PATTERN}')`,
      message: "must be a byte size such as 1048576, 512Ki, 1Mi or 1Gi",
      check: (self: number | string) => parseQuantity(self) !== undefined,
    },
  );
}

/** A container port: a number 1-65535 or an IANA service name (the port's `name`). */
export function PortRef(doc: Doc) {
  return withRules(
    Type.Union([Type.Integer(), Type.String({ maxLength: 15 })], {
      "x-kubernetes-int-or-string": true,
      ...doc,
    }),
    {
      rule: "type(self) == int ? self >= 1 && self <= 65535 : self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",
      message: "must be a port number (1-65535) or a container port name",
      check: (self: number | string) =>
        typeof self === "number"
          ? self >= 1 && self <= 65535
          : /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(self) && self.length <= 15,
    },
  );
}

/** A list with set semantics (no duplicates), bounded so CEL cost estimates stay finite. */
export function SetOf<T extends TSchema>(items: T, maxItems: number, doc: Doc) {
  return Type.Array(items, { maxItems, "x-kubernetes-list-type": "set", ...doc });
}
