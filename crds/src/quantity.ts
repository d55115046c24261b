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

/**
 * A Kubernetes resource quantity (cpu, memory) as resources.requests/limits take it: a non-negative
 * decimal with an optional binary (Ki…Ei), decimal (n, u, m, k, M, G, T, P, E) or exponent suffix.
 * https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/
 */
export const RESOURCE_QUANTITY_PATTERN =
  "^(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?[0-9]+))?$";
const RESOURCE_QUANTITY_RE = new RegExp(RESOURCE_QUANTITY_PATTERN);
const RESOURCE_SUFFIX: Readonly<Record<string, number>> = {
  "": 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  Pi: 1024 ** 5,
  Ei: 1024 ** 6,
};

/** The value of a resource quantity (cores for cpu, bytes for memory), or undefined. */
export function parseResourceQuantity(value: number | string): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  const match = RESOURCE_QUANTITY_RE.exec(value);
  if (!match) return undefined;
  const number = Number(match[1]);
  const suffix = match[5] ?? "";
  if (/^[eE][+-]?[0-9]/.test(suffix)) return number * 10 ** Number(suffix.slice(1));
  return number * (RESOURCE_SUFFIX[suffix] ?? 1);
}
