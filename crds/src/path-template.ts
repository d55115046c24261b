/**
 * Path templates: the `path` of a route or invalidation rule.
 *
 *   /api/v2/barbers/:barberId/slots   `:name` matches one segment and captures it
 *   /api/v2/services/*                `*` matches exactly one segment
 *   /api/v2/appointments/**           `**` (last segment only) matches zero or more segments
 *
 * Literal segments match exactly (after the request path is normalized). Parsing is pure and shared by
 * the policy parser (to report bad templates) and the sidecar (to compile matchers).
 */
export type PathSegment =
  | { readonly kind: "literal"; readonly value: string }
  | { readonly kind: "param"; readonly name: string }
  | { readonly kind: "any" }
  | { readonly kind: "rest" };

export interface PathTemplate {
  readonly source: string;
  readonly segments: readonly PathSegment[];
  readonly params: readonly string[];
}

export type PathTemplateResult =
  | { readonly ok: true; readonly template: PathTemplate }
  | { readonly ok: false; readonly message: string };

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LITERAL = /^[A-Za-z0-9._~!$&'()+,;=@%-]+$/;

export function parsePathTemplate(source: string): PathTemplateResult {
  if (!source.startsWith("/")) return fail(`path template must start with "/"`);
  const raw = source === "/" ? [] : source.slice(1).split("/");
  const segments: PathSegment[] = [];
  const params: string[] = [];
  for (const [index, part] of raw.entries()) {
    const segment = parseSegment(part, index === raw.length - 1);
    if (typeof segment === "string") return fail(`${segment} (in ${JSON.stringify(source)})`);
    if (segment.kind === "param") {
      if (params.includes(segment.name)) return fail(`parameter ":${segment.name}" appears twice`);
      params.push(segment.name);
    }
    segments.push(segment);
  }
  return { ok: true, template: { source, segments, params } };
}

function parseSegment(part: string, isLast: boolean): PathSegment | string {
  if (part === "") return "empty path segment";
  if (part === "**") return isLast ? { kind: "rest" } : `"**" may only be the last segment`;
  if (part === "*") return { kind: "any" };
  if (part.startsWith(":")) {
    const name = part.slice(1);
    return PARAM_NAME.test(name) ? { kind: "param", name } : `invalid parameter name ${JSON.stringify(part)}`;
  }
  if (part.includes("*")) return `"*" must be a whole segment, not part of ${JSON.stringify(part)}`;
  return LITERAL.test(part)
    ? { kind: "literal", value: part }
    : `invalid characters in ${JSON.stringify(part)}`;
}

function fail(message: string): PathTemplateResult {
  return { ok: false, message };
}

/** The `{name}` placeholders in a tag template such as `barber:{barberId}`. */
export function tagPlaceholders(tag: string): string[] {
  return [...tag.matchAll(/\{([^{}]*)\}/g)].map((match) => match[1] as string);
}
