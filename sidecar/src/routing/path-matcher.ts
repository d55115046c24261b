import type { PathSegment, PathTemplate } from "@apicache/crds";

/**
 * A path template compiled once into a segment matcher (no regular expressions at request time).
 * Matching works on the normalized path's segments; `:param` captures a non-empty segment, `*` matches
 * one non-empty segment, a trailing `**` matches zero or more segments.
 */
export interface PathMatcher {
  readonly source: string;
  /** Captured params, or undefined when the path does not match. */
  match(segments: readonly string[]): Record<string, string> | undefined;
}

const NO_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;

export interface MatcherOptions {
  /** Literal segments match whatever their letter case (lenient invalidation). */
  readonly ignoreCase?: boolean;
}

export function compilePathMatcher(template: PathTemplate, options: MatcherOptions = {}): PathMatcher {
  const segments = options.ignoreCase
    ? template.segments.map((segment) =>
        segment.kind === "literal"
          ? { kind: "literal" as const, value: segment.value.toLowerCase() }
          : segment,
      )
    : template.segments;
  const fold = options.ignoreCase === true;
  const rest = segments.at(-1)?.kind === "rest";
  const fixed = rest ? segments.length - 1 : segments.length;
  const hasParams = template.params.length > 0;
  return {
    source: template.source,
    match(path) {
      if (rest ? path.length < fixed : path.length !== fixed) return undefined;
      let params = NO_PARAMS;
      for (let i = 0; i < fixed; i++) {
        const value = path[i] as string;
        const segment = segments[i] as PathSegment;
        if (!segmentMatches(segment, value, fold)) return undefined;
        if (segment.kind === "param") {
          if (params === NO_PARAMS) params = {};
          params[segment.name] = value;
        }
      }
      return hasParams ? params : NO_PARAMS;
    },
  };
}

function segmentMatches(segment: PathSegment, value: string, fold: boolean): boolean {
  switch (segment.kind) {
    case "literal":
      return segment.value === (fold ? value.toLowerCase() : value);
    case "param":
    case "any":
      return value !== "";
    case "rest":
      return true;
  }
}

/** A normalized path's segments: "/" → [], "/a/b" → ["a","b"], "/a/" → ["a",""]. */
export function pathSegments(path: string): string[] {
  return path === "/" ? [] : path.slice(1).split("/");
}

/**
 * A tag template (`barber:{barberId}`) compiled into a filler. Placeholders are validated by the policy
 * parser, so every `{name}` is a parameter the path captures. Values are path segments as written in a
 * normalized path; each is filled in one canonical spelling (`tagValue`), so `/barbers/jos%C3%A9`,
 * `/barbers/josé` and a body field "josé" (given as `bodyFieldSegment`) all fill `barber:jos%C3%A9`.
 */
export function compileTagTemplate(tag: string): (params: Readonly<Record<string, string>>) => string {
  if (!tag.includes("{")) return () => tag;
  const parts = tag.split(/(\{[^{}]*\})/).filter(Boolean);
  return (params) => {
    let out = "";
    for (const part of parts) {
      out += part.startsWith("{") && part.endsWith("}") ? tagValue(params[part.slice(1, -1)] ?? "") : part;
    }
    return parts.length === 1 ? detached(out) : out;
  };
}

/**
 * `text` as a string of its own. A segment is a slice of the request target (V8 keeps a slice of 13
 * characters or more as a view into its parent), so a tag that is one parameter alone would keep the
 * whole target, query included (up to 16 KiB), alive for as long as an L1 entry carries it, while L1
 * counts only the tag. A concatenation is flattened into a fresh string when L1 hashes it.
 */
function detached(text: string): string {
  return text.length < 13 ? text : ` ${text}`.slice(1);
}

const PLAIN = /^[A-Za-z0-9_.~-]*$/;

/**
 * A path segment's canonical spelling in a tag: percent-decoded, then encoded as encodeURIComponent
 * does. Segments that do not decode (malformed UTF-8) are taken as literal text. Idempotent.
 */
export function tagValue(segment: string): string {
  if (PLAIN.test(segment)) return segment;
  let text = segment;
  try {
    text = decodeURIComponent(segment);
  } catch {
    // not valid percent-encoded UTF-8: the characters as written
  }
  return encodeURIComponent(wellFormed(text));
}

/** A body field's value as a path segment would carry it (what `tagValue` expects). */
export function bodyFieldSegment(value: string): string {
  return encodeURIComponent(wellFormed(value));
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Lone surrogates (which encodeURIComponent refuses) replaced by U+FFFD. */
function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, "\uFFFD");
}
