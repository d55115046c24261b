/** Percent-encoding normalization shared by paths and query strings. Pure. */
const STRAY = /%(?![0-9A-Fa-f]{2})/;
const ESCAPE = /%[0-9A-Fa-f]{2}/g;

/**
 * Percent-encodings normalized (RFC 3986 §6.2.2.1–2): unreserved characters decoded, hex uppercased. A
 * `%` not followed by two hex digits is kept as written, and then nothing is decoded: encoding it as
 * `%25` would give `%zz` the key of `%25zz`, which an upstream may answer differently (one is
 * malformed), and decoding next to it could turn it into another escape.
 */
export function normalizePercentEncoding(path: string): string {
  if (!path.includes("%")) return path;
  // With a stray `%`, decoding could make a new escape of it (`%%31` + `7` → `%17`): hex case only.
  if (STRAY.test(path)) return path.replace(ESCAPE, (hex) => hex.toUpperCase());
  let out = "";
  let index = 0;
  while (index < path.length) {
    const percent = path.indexOf("%", index);
    if (percent === -1) break;
    out += path.slice(index, percent);
    const hex = path.slice(percent + 1, percent + 3);
    const code = Number.parseInt(hex, 16);
    out += isUnreserved(code) ? String.fromCharCode(code) : `%${hex.toUpperCase()}`;
    index = percent + 3;
  }
  return out + path.slice(index);
}

/** ALPHA / DIGIT / "-" / "." / "_" / "~" (RFC 3986 §2.3). */
function isUnreserved(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x30 && code <= 0x39) ||
    code === 0x2d ||
    code === 0x2e ||
    code === 0x5f ||
    code === 0x7e
  );
}
