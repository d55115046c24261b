import { firstValue, type HeaderValue } from "../http-cache/headers.js";

/**
 * The fields an invalidate rule's `bodyFields` reads from a write's request body: a JSON object (JSON
 * content type, already buffered because it was small), top-level string or number values only.
 * Anything else — another content type, invalid JSON, an array, a missing, nested, boolean or overlong
 * value — gives undefined, and the rule falls back to its fallbackTags. Pure.
 */
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
const MAX_VALUE_LENGTH = 256;

/** The body parsed as a JSON object, or undefined. Call at most once per write (it parses). */
export function jsonObjectBody(
  body: Buffer | undefined,
  contentType: HeaderValue,
): Readonly<Record<string, unknown>> | undefined {
  if (body === undefined || !JSON_TYPE.test(firstValue(contentType) ?? "")) return undefined;
  try {
    const parsed: unknown = JSON.parse(body.toString("utf8"));
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Every field as a string, or undefined when any one is missing or not a short string or number. */
export function bodyFieldValues(
  body: Readonly<Record<string, unknown>> | undefined,
  fields: readonly string[],
): Record<string, string> | undefined {
  if (body === undefined) return undefined;
  const values: Record<string, string> = {};
  for (const field of fields) {
    if (!Object.hasOwn(body, field)) return undefined;
    const value = body[field];
    const text = typeof value === "number" && Number.isFinite(value) ? String(value) : value;
    if (typeof text !== "string" || text === "" || text.length > MAX_VALUE_LENGTH) return undefined;
    values[field] = text;
  }
  return values;
}
