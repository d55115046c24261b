import { parsePathTemplate, tagPlaceholders } from "./path-template.js";
import type { Problem } from "./problems.js";
import type { CachePolicySpec } from "./schema.js";

/**
 * What a schema and CEL cannot say: path templates must parse, and a tag template may only name a
 * parameter its rule's path captures. Runs on a structurally valid spec.
 * (Checks that need other objects — overlapping selectors, unknown container ports — are the operator's.)
 */
export function semanticProblems(spec: CachePolicySpec): Problem[] {
  const problems: Problem[] = [];
  const rules = [
    ...(spec.routes ?? []).map((rule, i) => ({ rule, at: `spec.routes[${i}]` })),
    ...(spec.invalidate ?? []).map((rule, i) => ({ rule, at: `spec.invalidate[${i}]` })),
  ];
  for (const { rule, at } of rules) {
    const parsed = parsePathTemplate(rule.path);
    if (!parsed.ok) {
      problems.push({ path: `${at}.path`, message: `invalid path template: ${parsed.message}` });
      continue;
    }
    for (const [t, tag] of (rule.tags ?? []).entries()) {
      for (const name of tagPlaceholders(tag)) {
        if (parsed.template.params.includes(name)) continue;
        problems.push({
          path: `${at}.tags[${t}]`,
          message: `tag ${JSON.stringify(tag)} names parameter {${name}}, which path ${JSON.stringify(rule.path)} does not capture`,
        });
      }
    }
  }
  for (const [i, warm] of (spec.warm ?? []).entries()) {
    if (warm.path.includes("*") || /\/:/.test(warm.path)) {
      problems.push({ path: `spec.warm[${i}].path`, message: "warm paths must be concrete: no templates" });
    }
  }
  return problems;
}
