import { createHash } from "node:crypto";
import { type Headers, joinedValue } from "../http-cache/headers.js";
import type { CompiledIdentity } from "../routing/compile-policy.js";

/**
 * Who is behind a request (spec.identity). A request is identifying when it carries Authorization, any
 * spec.identity header, or a cookie that identifies (any Cookie when spec.identity.cookies is unset,
 * only the listed cookies otherwise). Identifying requests never read or write a Public entry; PerUser
 * routes key on a SHA-256 of the identity — the raw credential never reaches a key. Pure.
 */
export function isIdentifying(headers: Headers, identity: CompiledIdentity): boolean {
  for (const name of identity.headers) if (headers[name] !== undefined) return true;
  const cookie = joinedCookie(headers);
  if (cookie === undefined) return false;
  if (!identity.cookies) return cookie.trim() !== "";
  return identity.cookies.some((name) => cookieValue(cookie, name) !== undefined);
}

/** base64url SHA-256 of the identity, or undefined for an anonymous request. */
export function identityHash(headers: Headers, identity: CompiledIdentity): string | undefined {
  const parts = identityParts(headers, identity);
  if (parts.length === 0) return undefined;
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part).update("\0");
  return hash.digest("base64url");
}

function identityParts(headers: Headers, identity: CompiledIdentity): string[] {
  const parts: string[] = [];
  for (const name of identity.headers) {
    const value = joinedValue(headers[name]);
    if (value !== undefined) parts.push(`h:${name}=${value}`);
  }
  const cookie = joinedCookie(headers);
  if (cookie !== undefined && cookie.trim() !== "") {
    if (!identity.cookies) parts.push(`c:${cookie}`);
    else {
      for (const name of identity.cookies) {
        const value = cookieValue(cookie, name);
        if (value !== undefined) parts.push(`c:${name}=${value}`);
      }
    }
  }
  return parts;
}

/** The identifying cookies only, as a Cookie header value (for PerUser cache fills). */
export function identifyingCookies(headers: Headers, identity: CompiledIdentity): string | undefined {
  const cookie = joinedCookie(headers);
  if (cookie === undefined) return undefined;
  if (!identity.cookies) return cookie;
  const kept = identity.cookies.flatMap((name) => {
    const value = cookieValue(cookie, name);
    return value === undefined ? [] : [`${name}=${value}`];
  });
  return kept.length > 0 ? kept.join("; ") : undefined;
}

function joinedCookie(headers: Headers): string | undefined {
  const value = headers.cookie;
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : value.join("; ");
}

/** The value of cookie `name` in a Cookie header (RFC 6265 §4.2), or undefined. */
export function cookieValue(cookie: string, name: string): string | undefined {
  for (const pair of cookie.split(";")) {
    const equals = pair.indexOf("=");
    if (equals === -1) continue;
    if (pair.slice(0, equals).trim() === name) return pair.slice(equals + 1).trim();
  }
  return undefined;
}
