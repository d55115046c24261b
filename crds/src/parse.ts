import { Value } from "@sinclair/typebox/value";
import { parse as parseYaml } from "yaml";
import { copyJson } from "./copy-json.js";
import type { CachePolicy, NormalizedSpec, Route } from "./policy.js";
import { InvalidPolicyError, type Problem } from "./problems.js";
import {
  type CachePolicyManifest,
  CachePolicySchema,
  type CachePolicySpec,
  type MemoryStoreSpec,
} from "./schema.js";
import { semanticProblems } from "./semantic.js";
import { structuralProblems } from "./structural.js";

export type ParseResult =
  | { readonly ok: true; readonly policy: CachePolicy }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/**
 * Validates anything claiming to be a CachePolicy and returns it normalized (defaults applied), or
 * every problem found, each with its field path. Never throws. Checks, in order: what the API server
 * checks (schema, list semantics, CEL rules), then what only the parser can (path templates, tags).
 */
export function parseCachePolicy(input: unknown): ParseResult {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return { ok: false, problems: [{ path: "", message: "a CachePolicy must be an object" }] };
  }
  const manifest = Value.Default(CachePolicySchema, copyJson(input)) as CachePolicyManifest;
  const problems = structuralProblems(CachePolicySchema, manifest);
  if (problems.length > 0) return { ok: false, problems };
  const semantic = semanticProblems(manifest.spec);
  if (semantic.length > 0) return { ok: false, problems: semantic };
  return { ok: true, policy: normalize(manifest) };
}

/** Like `parseCachePolicy`, throwing an `InvalidPolicyError` listing every problem. */
export function parseCachePolicyOrThrow(input: unknown, source?: string): CachePolicy {
  const result = parseCachePolicy(input);
  if (!result.ok) throw new InvalidPolicyError(result.problems, source);
  return result.policy;
}

/** Parses a manifest file's text (YAML or JSON; one document). */
export function parseCachePolicyText(text: string): ParseResult {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    return {
      ok: false,
      problems: [{ path: "", message: `not valid YAML or JSON: ${(error as Error).message}` }],
    };
  }
  return parseCachePolicy(document);
}

function normalize(manifest: CachePolicyManifest): CachePolicy {
  const namespace = manifest.metadata.namespace ?? "default";
  const { name, generation, uid } = manifest.metadata;
  return {
    apiVersion: manifest.apiVersion,
    kind: manifest.kind,
    metadata: {
      name,
      namespace,
      ...(generation === undefined ? {} : { generation }),
      ...(uid ? { uid } : {}),
    },
    spec: normalizeSpec(manifest.spec, `${namespace}/${name}`),
  };
}

// Value.Default has filled every schema default; the casts below only drop `?` from those fields.
function normalizeSpec(spec: CachePolicySpec, defaultPrefix: string): NormalizedSpec {
  const { memory, redis } = normalizeStore(spec.store, defaultPrefix);
  return {
    selector: spec.selector,
    upstream: spec.upstream as NormalizedSpec["upstream"],
    store: redis ? { redis: redis as NonNullable<NormalizedSpec["store"]["redis"]>, memory } : { memory },
    ...(spec.sidecar ? { sidecar: spec.sidecar } : {}),
    ...normalizeBehaviour(spec),
  };
}

/** The fields of a spec that say how to cache (also in a SidecarConfig: sidecar-config.ts). */
type BehaviourField =
  | "mode"
  | "identity"
  | "forwarding"
  | "defaults"
  | "routes"
  | "invalidate"
  | "invalidationMatching"
  | "clientNoCache"
  | "warm";

/** Defaults beyond the schema's own for the behaviour fields; shared with sidecar-config.ts. */
export function normalizeBehaviour(
  spec: Pick<CachePolicySpec, BehaviourField>,
): Pick<NormalizedSpec, BehaviourField> {
  const defaults = spec.defaults as NormalizedSpec["defaults"];
  return {
    mode: spec.mode ?? "Enforce",
    identity: {
      headers: spec.identity?.headers ?? [],
      ...(spec.identity?.cookies ? { cookies: spec.identity.cookies } : {}),
    },
    forwarding: spec.forwarding as NormalizedSpec["forwarding"],
    defaults,
    routes: (spec.routes ?? []).map(
      (route) =>
        ({ ...defaults, tags: [], ...route, key: { query: [], headers: [], ...route.key } }) as Route,
    ),
    invalidate: (spec.invalidate ?? []) as NormalizedSpec["invalidate"],
    invalidationMatching: spec.invalidationMatching ?? "Lenient",
    clientNoCache: spec.clientNoCache ?? "Ignore",
    warm: spec.warm ?? [],
  };
}

/** The memory tier with its defaults, and Redis (if any) with its key prefix defaulted. */
export function normalizeStore<R extends { readonly keyPrefix?: string }>(
  store: { readonly redis?: R; readonly memory?: MemoryStoreSpec } | undefined,
  defaultPrefix: string,
) {
  const memory = Value.Default(MEMORY, store?.memory ?? {}) as NormalizedSpec["store"]["memory"];
  const redis = store?.redis && { keyPrefix: defaultPrefix, ...store.redis };
  return { memory, redis };
}

const MEMORY = CachePolicySchema.properties.spec.properties.store.properties.memory;
