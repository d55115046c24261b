import { isIP } from "node:net";
import { parsePathTemplate, tagPlaceholders } from "./path-template.js";
import type { Problem } from "./problems.js";
import type { CachePolicySpec } from "./schema.js";

/**
 * What a schema and CEL cannot say: path templates must parse, a tag template may only name a
 * parameter its rule's path captures, and trusted proxy ranges must be CIDRs. Runs on a structurally valid spec.
 * (Checks that need other objects — overlapping selectors, unknown container ports — are the operator's.)
 */
export function semanticProblems(
  spec: Pick<CachePolicySpec, "routes" | "invalidate" | "warm" | "forwarding">,
): Problem[] {
  const rules = [
    ...(spec.routes ?? []).map((rule, i) => ({ rule, at: `spec.routes[${i}]` })),
    ...(spec.invalidate ?? []).map((rule, i) => ({ rule, at: `spec.invalidate[${i}]` })),
  ];
  const problems = rules.flatMap(({ rule, at }) => ruleProblems(rule, at));
  for (const [i, warm] of (spec.warm ?? []).entries()) {
    if (warm.path.includes("*") || /\/:/.test(warm.path)) {
      problems.push({ path: `spec.warm[${i}].path`, message: "warm paths must be concrete: no templates" });
    }
  }
  for (const [i, range] of (spec.forwarding?.trustedProxies ?? []).entries()) {
    if (!validCidr(range)) {
      problems.push({
        path: `spec.forwarding.trustedProxies[${i}]`,
        message: `${JSON.stringify(range)} is not an address range such as 10.0.0.0/8 or fc00::/7`,
      });
    }
  }
  return problems;
}

/** `address/prefix` with an IPv4 or IPv6 address and a prefix length that fits it. */
export function validCidr(range: string): boolean {
  const slash = range.indexOf("/");
  const version = isIP(range.slice(0, slash));
  const prefix = Number(range.slice(slash + 1));
  return version !== 0 && Number.isInteger(prefix) && prefix >= 0 && prefix <= (version === 4 ? 32 : 128);
}

type RuleSpec =
  | NonNullable<CachePolicySpec["routes"]>[number]
  | NonNullable<CachePolicySpec["invalidate"]>[number];

/** A route's or invalidate rule's path template, and the parameters its tags name. */
function ruleProblems(rule: RuleSpec, at: string): Problem[] {
  const parsed = parsePathTemplate(rule.path);
  if (!parsed.ok) return [{ path: `${at}.path`, message: `invalid path template: ${parsed.message}` }];
  const pathParams = parsed.template.params;
  const bodyFields = "bodyFields" in rule ? (rule.bodyFields ?? []) : [];
  const problems: Problem[] = bodyFields
    .map((field, f) => ({ field, f }))
    .filter(({ field }) => pathParams.includes(field))
    .map(({ field, f }) => ({
      path: `${at}.bodyFields[${f}]`,
      message: `body field ${JSON.stringify(field)} has the name of a parameter of path ${JSON.stringify(rule.path)}; rename one`,
    }));
  const captured = `path ${JSON.stringify(rule.path)} does not capture`;
  const tagSource = bodyFields.length > 0 ? `neither ${captured} nor bodyFields lists` : captured;
  problems.push(
    ...placeholderProblems(rule.tags ?? [], `${at}.tags`, [...pathParams, ...bodyFields], tagSource),
  );
  const fallback = "fallbackTags" in rule ? (rule.fallbackTags ?? []) : [];
  const why = `${captured} (fallback tags cannot use body fields)`;
  problems.push(...placeholderProblems(fallback, `${at}.fallbackTags`, pathParams, why));
  return problems;
}

/** Tag templates may only name the parameters given (a rule's path parameters, and its body fields). */
function placeholderProblems(
  tags: readonly string[],
  at: string,
  known: readonly string[],
  why: string,
): Problem[] {
  const problems: Problem[] = [];
  for (const [t, tag] of tags.entries()) {
    for (const name of tagPlaceholders(tag)) {
      if (known.includes(name)) continue;
      problems.push({
        path: `${at}[${t}]`,
        message: `tag ${JSON.stringify(tag)} names parameter {${name}}, which ${why}`,
      });
    }
  }
  return problems;
}
