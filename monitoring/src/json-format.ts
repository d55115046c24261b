/**
 * JSON as Biome formats it (2-space indent, line width 110): objects one key per line, arrays of plain
 * values on one line when they fit. The committed dashboard then survives `biome check --write`
 * unchanged, so formatting never shows up as drift.
 */
const LINE_WIDTH = 110;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isPlain(value: Json): value is null | boolean | number | string {
  return value === null || typeof value !== "object";
}

function format(value: Json, indent: string, prefixLength: number): string {
  if (isPlain(value)) return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    if (value.every(isPlain)) {
      const flat = `[${value.map((v) => JSON.stringify(v)).join(", ")}]`;
      // The closing "," of a following element counts toward the width.
      if (prefixLength + flat.length + 1 <= LINE_WIDTH) return flat;
    }
    const items = value.map((v) => `${inner}${format(v, inner, inner.length)}`);
    return `[\n${items.join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return "{}";
  const lines = entries.map(([key, v]) => {
    const head = `${inner}${JSON.stringify(key)}: `;
    return `${head}${format(v, inner, head.length)}`;
  });
  return `{\n${lines.join(",\n")}\n${indent}}`;
}

/** `value` as formatted JSON text with a trailing newline. */
export function formatJson(value: unknown): string {
  return `${format(JSON.parse(JSON.stringify(value)) as Json, "", 0)}\n`;
}
