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

export function compilePathMatcher(template: PathTemplate): PathMatcher {
  const segments = template.segments;
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
        if (!segmentMatches(segment, value)) return undefined;
        if (segment.kind === "param") {
          if (params === NO_PARAMS) params = {};
          params[segment.name] = value;
        }
      }
      return hasParams ? params : NO_PARAMS;
    },
  };
}

function segmentMatches(segment: PathSegment, value: string): boolean {
  switch (segment.kind) {
    case "literal":
      return segment.value === value;
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
 * parser, so every `{name}` is a parameter the path captures.
 */
export function compileTagTemplate(tag: string): (params: Readonly<Record<string, string>>) => string {
  if (!tag.includes("{")) return () => tag;
  const parts = tag.split(/(\{[^{}]*\})/).filter(Boolean);
  return (params) => {
    let out = "";
    for (const part of parts) {
      out += part.startsWith("{") && part.endsWith("}") ? (params[part.slice(1, -1)] ?? "") : part;
    }
    return out;
  };
}
