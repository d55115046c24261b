import { normalizePercentEncoding } from "./percent-encoding.js";

/**
 * Request path normalization before matching and keying (RFC 3986 §6.2.2), so that equivalent spellings
 * of one resource share a route and a cache entry. Pure.
 *   - percent-encoded unreserved characters are decoded (`%7E` → `~`, `%41` → `A`), other
 *     percent-encodings get uppercase hex (`%2f` → `%2F`; an encoded slash stays encoded); a stray `%`
 *     stays as written
 *   - dot segments are removed (`/a/./b/../c` → `/a/c`, RFC 3986 §5.2.4)
 *   - empty segments (duplicate slashes) are dropped; a trailing slash is kept
 * https://www.rfc-editor.org/rfc/rfc3986#section-6.2.2
 */
export function normalizePath(path: string): string {
  if (!needsWork(path)) return path;
  const decoded = path.includes("%") ? normalizePercentEncoding(path) : path;
  const output: string[] = [];
  const parts = decoded.split("/");
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (part === "" || part === ".") continue;
    if (part === "..") output.pop();
    else output.push(part);
  }
  const last = parts[parts.length - 1];
  const trailing = output.length > 0 && (last === "" || last === "." || last === "..");
  return `/${output.join("/")}${trailing ? "/" : ""}`;
}

function needsWork(path: string): boolean {
  if (path.charCodeAt(0) !== 47 /* / */) return true;
  return path.includes("%") || path.includes("//") || path.includes("/.");
}

/** Splits a request target into its path and raw query ("" when none); handles absolute-form. */
export function splitTarget(target: string): { path: string; query: string } {
  let rest = target;
  if (!rest.startsWith("/")) {
    // absolute-form (RFC 9112 §3.2.2): http://host/path?query
    const scheme = rest.indexOf("://");
    if (scheme !== -1) {
      const slash = rest.indexOf("/", scheme + 3);
      const question = rest.indexOf("?", scheme + 3);
      if (slash === -1 || (question !== -1 && question < slash))
        rest = `/${question === -1 ? "" : rest.slice(question)}`;
      else rest = rest.slice(slash);
    }
  }
  const hash = rest.indexOf("#");
  if (hash !== -1) rest = rest.slice(0, hash);
  const question = rest.indexOf("?");
  if (question === -1) return { path: rest, query: "" };
  return { path: rest.slice(0, question), query: rest.slice(question + 1) };
}
