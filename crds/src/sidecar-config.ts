import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { parse as parseYaml, stringify } from "yaml";
import { copyJson } from "./copy-json.js";
import { normalizeBehaviour, normalizeStore, parseCachePolicy } from "./parse.js";
import type { CachePolicy, NormalizedSpec, PolicyMetadata } from "./policy.js";
import { revisionLine } from "./policy-text.js";
import type { Problem } from "./problems.js";
import { type Rule, rulesOf, withRules } from "./rules.js";
import {
  API_VERSION,
  CachePolicySpecSchema,
  GROUP,
  KIND,
  RedisStoreSchema,
  StoreSchema,
  UpstreamSchema,
} from "./schema.js";
import { semanticProblems } from "./semantic.js";
import { structuralProblems } from "./structural.js";

/**
 * The sidecar's configuration: what the operator writes into a policy's ConfigMap (key `policy.yaml`)
 * and what the sidecar reads (docs/adr/0014-api-evolution.md). A document of its own, `kind:
 * SidecarConfig`, versioned by an integer `schemaVersion` that does not follow the CRD's version, and
 * holding only what the sidecar applies: the operator's fields (`selector`, `sidecar`, `upstream.port`,
 * `store.redis.urlSecretRef`) stay out, so they may change without a sidecar noticing.
 *
 *   # apicache.io/revision: 7
 *   kind: SidecarConfig
 *   schemaVersion: 1
 *   policy: { namespace: shop, name: booking-api }
 *   spec: { mode: Enforce, upstream: { timeout: 30s }, store: …, routes: […], … }   # normalized
 *
 * A sidecar also reads a CachePolicy manifest of a CRD version it knows: a `--policy` file on a laptop,
 * or the ConfigMap of an operator from before SidecarConfig. Anything it does not know (a newer
 * schemaVersion, another CachePolicy version) is `unsupported`: the sidecar keeps its last good
 * configuration.
 */
export const SIDECAR_CONFIG_KIND = "SidecarConfig";
/** The schema version this build writes. */
export const SIDECAR_CONFIG_SCHEMA_VERSION = 1;
/** Every schema version this build reads. */
export const SIDECAR_CONFIG_SCHEMA_VERSIONS: readonly number[] = [1];
/** The CachePolicy apiVersions this build reads as a manifest. */
export const CACHEPOLICY_API_VERSIONS: readonly string[] = [API_VERSION];

type Redis = NonNullable<NormalizedSpec["store"]["redis"]>;

/** The normalized spec without the operator's fields: what the sidecar applies. */
export type SidecarSpec = Omit<NormalizedSpec, "selector" | "sidecar" | "upstream" | "store"> & {
  readonly upstream: Omit<NormalizedSpec["upstream"], "port">;
  readonly store: {
    readonly redis?: Omit<Redis, "urlSecretRef">;
    readonly memory: NormalizedSpec["store"]["memory"];
  };
};

/** One policy as the sidecar runs it. A `CachePolicy` is one too (it has more fields). */
export interface SidecarPolicy {
  readonly metadata: Pick<PolicyMetadata, "name" | "namespace">;
  readonly spec: SidecarSpec;
}

/** The sidecar's part of a normalized CachePolicy. Pure. */
export function sidecarPolicyOf(policy: CachePolicy): SidecarPolicy {
  const { name, namespace } = policy.metadata;
  const { selector: _selector, sidecar: _sidecar, upstream, store, mode, ...behaviour } = policy.spec;
  const redis = store.redis && {
    keyPrefix: store.redis.keyPrefix,
    commandTimeout: store.redis.commandTimeout,
  };
  return {
    metadata: { name, namespace },
    spec: {
      mode,
      upstream: { timeout: upstream.timeout },
      store: redis ? { redis, memory: store.memory } : { memory: store.memory },
      ...behaviour,
    },
  };
}

/** The SidecarConfig document for a policy (schemaVersion 1). Pure. */
export function sidecarConfigDocument(policy: CachePolicy) {
  const { metadata, spec } = sidecarPolicyOf(policy);
  return {
    kind: SIDECAR_CONFIG_KIND,
    schemaVersion: SIDECAR_CONFIG_SCHEMA_VERSION,
    policy: { namespace: metadata.namespace, name: metadata.name },
    spec,
  };
}

/**
 * The text the operator writes: an optional comment line, the revision line (the policy's generation,
 * left out of the hash: policy-text.ts), then the document as YAML. It names no CRD version, so a new
 * CRD version that changes nothing the sidecar applies leaves the text and its hash as they were.
 */
export function renderSidecarConfig(policy: CachePolicy, comment?: string): string {
  return (
    (comment === undefined ? "" : `# ${comment}\n`) +
    revisionLine(policy.metadata.generation ?? 0) +
    stringify(sidecarConfigDocument(policy), { lineWidth: 0, sortMapEntries: false })
  );
}

// The schema of schemaVersion 1: the spec's schemas without the operator's fields, the same rules.
const {
  selector: _s,
  sidecar: _c,
  upstream: _u,
  store: _st,
  ...behaviourSchemas
} = CachePolicySpecSchema.properties;
const { keyPrefix, commandTimeout } = RedisStoreSchema.properties;

const SidecarSpecSchema = withRules(
  Type.Object(
    {
      upstream: Type.Optional(
        Type.Object(
          { timeout: UpstreamSchema.properties.timeout },
          { additionalProperties: false, default: {} },
        ),
      ),
      store: Type.Optional(
        Type.Object(
          {
            redis: Type.Optional(Type.Object({ keyPrefix, commandTimeout }, { additionalProperties: false })),
            memory: StoreSchema.properties.memory,
          },
          { additionalProperties: false, default: {} },
        ),
      ),
      ...behaviourSchemas,
    },
    { additionalProperties: false },
  ),
  ...(rulesOf(CachePolicySpecSchema) as readonly Rule<never>[]),
);

const V1 = Type.Object(
  {
    kind: Type.Literal(SIDECAR_CONFIG_KIND),
    schemaVersion: Type.Literal(1),
    policy: Type.Object(
      {
        namespace: Type.String({ minLength: 1, maxLength: 63 }),
        name: Type.String({ minLength: 1, maxLength: 253 }),
      },
      { additionalProperties: false },
    ),
    spec: SidecarSpecSchema,
  },
  { additionalProperties: false },
);

type SidecarConfigV1 = Static<typeof V1>;

/** The JSON Schema of schemaVersion 1 (frozen: sidecar-config.test.ts). */
export const SidecarConfigV1Schema: TSchema = V1;

export type SidecarConfigResult =
  | { readonly ok: true; readonly policy: SidecarPolicy; readonly format: string }
  | {
      readonly ok: false;
      /** The document is of a version this build does not read (not: a version it reads, badly filled). */
      readonly unsupported: boolean;
      readonly problems: readonly Problem[];
    };

/** Parses what a sidecar is given (YAML or JSON, one document). Never throws. */
export function parseSidecarConfigText(text: string): SidecarConfigResult {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    return invalid([{ path: "", message: `not valid YAML or JSON: ${(error as Error).message}` }]);
  }
  return parseSidecarConfig(document);
}

/**
 * A SidecarConfig of a schema version this build reads, or a CachePolicy manifest of a CRD version it
 * reads, as the policy the sidecar runs; every problem otherwise, `unsupported` when the version is
 * the problem.
 */
export function parseSidecarConfig(document: unknown): SidecarConfigResult {
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    return invalid([{ path: "", message: "must be a SidecarConfig or a CachePolicy manifest (an object)" }]);
  }
  const fields = document as Record<string, unknown>;
  return fields.kind === SIDECAR_CONFIG_KIND ? parseVersioned(fields) : parseManifest(fields);
}

function parseVersioned(document: Record<string, unknown>): SidecarConfigResult {
  const version = document.schemaVersion;
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 1) {
    return invalid([{ path: "schemaVersion", message: "must be a positive integer" }]);
  }
  if (!SIDECAR_CONFIG_SCHEMA_VERSIONS.includes(version)) {
    const reads = SIDECAR_CONFIG_SCHEMA_VERSIONS.join(", ");
    const newest = Math.max(...SIDECAR_CONFIG_SCHEMA_VERSIONS);
    const advice =
      version > newest
        ? "the operator that rendered it is newer than this sidecar: recreate the pod (kubectl rollout restart) so that the webhook injects the operator's sidecar image"
        : "the operator that rendered it is older than this sidecar supports: upgrade the operator";
    return unsupported(
      "schemaVersion",
      `${SIDECAR_CONFIG_KIND} schemaVersion ${version} is not one this sidecar reads (${reads}); ${advice}`,
    );
  }
  const config = Value.Default(V1, copyJson(document)) as SidecarConfigV1;
  const problems = structuralProblems(V1, config);
  if (problems.length > 0) return invalid(problems);
  const semantic = semanticProblems(config.spec);
  if (semantic.length > 0) return invalid(semantic);
  const { namespace, name } = config.policy;
  const { memory, redis } = normalizeStore(config.spec.store, `${namespace}/${name}`);
  const spec: SidecarSpec = {
    upstream: config.spec.upstream as SidecarSpec["upstream"],
    store: redis ? { redis: redis as Omit<Redis, "urlSecretRef">, memory } : { memory },
    ...normalizeBehaviour(config.spec),
  };
  return {
    ok: true,
    policy: { metadata: { namespace, name }, spec },
    format: `${SIDECAR_CONFIG_KIND} ${version}`,
  };
}

/** `apicache.io/v1`, `apicache.io/v1beta1`: a version of our group's API, known or not. */
const GROUP_VERSION = new RegExp(`^${GROUP.replaceAll(".", "\\.")}/v[0-9]+((alpha|beta)[0-9]+)?$`);

function parseManifest(document: Record<string, unknown>): SidecarConfigResult {
  const { apiVersion, kind } = document;
  if (
    kind === KIND &&
    typeof apiVersion === "string" &&
    GROUP_VERSION.test(apiVersion) &&
    !CACHEPOLICY_API_VERSIONS.includes(apiVersion)
  ) {
    return unsupported(
      "apiVersion",
      `${KIND} ${apiVersion} is not a version this sidecar reads (${CACHEPOLICY_API_VERSIONS.join(", ")}): run a sidecar that reads it, or write the manifest as ${API_VERSION}`,
    );
  }
  const parsed = parseCachePolicy(document);
  if (!parsed.ok) return invalid(parsed.problems);
  return { ok: true, policy: sidecarPolicyOf(parsed.policy), format: `${KIND} ${API_VERSION}` };
}

function invalid(problems: readonly Problem[]): SidecarConfigResult {
  return { ok: false, unsupported: false, problems };
}

function unsupported(path: string, message: string): SidecarConfigResult {
  return { ok: false, unsupported: true, problems: [{ path, message }] };
}
