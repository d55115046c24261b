/**
 * Byte sizes as written in a CachePolicy: a plain integer, or an integer with a Kubernetes quantity
 * suffix (binary Ki/Mi/Gi or decimal k/M/G). Same grammar as the CRD's CEL rule.
 */
export const QUANTITY_PATTERN = "^[0-9]+(Ki|Mi|Gi|k|M|G)?$";
const QUANTITY_RE = /^([0-9]+)(Ki|Mi|Gi|k|M|G)?$/;
const SUFFIX: Readonly<Record<string, number>> = {
  "": 1,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
};

/** Bytes for a quantity (number or string), or undefined when it is not one. */
export function parseQuantity(value: number | string): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const match = QUANTITY_RE.exec(value);
  if (!match) return undefined;
  return Number(match[1]) * (SUFFIX[match[2] ?? ""] ?? 1);
}

/** Bytes for a quantity the parser has already validated; throws on a bad value. */
export function quantityBytes(value: number | string): number {
  const bytes = parseQuantity(value);
  if (bytes === undefined) throw new RangeError(`not a byte quantity: ${JSON.stringify(value)}`);
  return bytes;
}
