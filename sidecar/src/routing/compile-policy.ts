import {
  durationMs,
  parsePathTemplate,
  policyHash,
  policyRevision,
  quantityBytes,
  type Route,
  type SidecarPolicy,
} from "@apicache/crds";
import type { CacheRules } from "../http-cache/storability.js";
import { type TrustCheck, trustedProxies } from "../keys/forwarding.js";
import { bodyFieldValues } from "./body-fields.js";
import {
  bodyFieldSegment,
  compilePathMatcher,
  compileTagTemplate,
  type MatcherOptions,
  type PathMatcher,
  pathSegments,
} from "./path-matcher.js";

/**
 * A policy (a SidecarConfig, or a CachePolicy manifest: reload/read-config.ts) compiled once per (re)load into what the hot path needs: matchers, millisecond and byte
 * values, lowercase header names, sorted key parts. Pure (node:crypto only hashes).
 */
export interface CompiledRoute {
  readonly name: string;
  readonly matcher: PathMatcher;
  readonly methods: ReadonlySet<string>;
  readonly rules: CacheRules;
  /** Declared key query parameters, sorted. */
  readonly keyQuery: readonly string[];
  /** Key headers: declared, plus Accept and Accept-Language unless key.negotiation is Dropped; sorted. */
  readonly keyHeaders: readonly string[];
  readonly tags: readonly TagFiller[];
}

export interface CompiledInvalidation {
  readonly name: string;
  readonly matcher: PathMatcher;
  readonly methods: ReadonlySet<string>;
  readonly tags: readonly TagFiller[];
  /** Request body fields the tags may name (empty: path parameters only). */
  readonly bodyFields: readonly string[];
  /** Used instead of `tags` when the body does not give every body field. */
  readonly fallbackTags: readonly TagFiller[];
}

type TagFiller = (params: Readonly<Record<string, string>>) => string;

export interface CompiledIdentity {
  /** Lowercase identifying header names; `authorization` always included. */
  readonly headers: readonly string[];
  /** Identifying cookie names; undefined = any Cookie header identifies. */
  readonly cookies?: readonly string[];
}

export interface CompiledPolicy {
  readonly policy: SidecarPolicy;
  /** `<namespace>/<name>`: the `policy` metric label. */
  readonly label: string;
  /** `sha256:<hex>` of the policy text. */
  readonly hash: string;
  /** The operator's revision stamp (the CachePolicy's generation); none for a hand-written file. */
  readonly revision?: number;
  readonly mode: SidecarPolicy["spec"]["mode"];
  readonly routes: readonly CompiledRoute[];
  readonly invalidations: readonly CompiledInvalidation[];
  /** Lenient: rules match writes whatever the letter case and a trailing slash (spec.invalidationMatching). */
  readonly lenientInvalidation: boolean;
  readonly identity: CompiledIdentity;
  readonly forwarding: {
    /** Whether a peer address is a trusted proxy (spec.forwarding.trustedProxies). */
    readonly trusted: TrustCheck;
    /** Forward-only header names, lowercase (spec.forwarding.headers). */
    readonly headers: readonly string[];
  };
  readonly upstreamTimeoutMs: number;
  readonly warm: readonly { readonly path: string; readonly everyMs: number; readonly host?: string }[];
  readonly store: {
    readonly keyPrefix: string;
    readonly memoryMaxBytes: number;
    readonly maxEntryAgeMs: number;
    readonly commandTimeoutMs: number;
  };
}

export function compilePolicy(policy: SidecarPolicy, text: string): CompiledPolicy {
  const { spec, metadata } = policy;
  const label = `${metadata.namespace}/${metadata.name}`;
  const revision = policyRevision(text);
  return {
    policy,
    label,
    hash: policyHash(text),
    ...(revision === undefined ? {} : { revision }),
    mode: spec.mode,
    routes: spec.routes.map(compileRoute),
    invalidations: spec.invalidate.map((rule) => ({
      name: rule.name,
      matcher: matcherFor(rule.path, { ignoreCase: spec.invalidationMatching === "Lenient" }),
      methods: new Set(rule.methods),
      tags: rule.tags.map(compileTagTemplate),
      bodyFields: rule.bodyFields ?? [],
      fallbackTags: (rule.fallbackTags ?? []).map(compileTagTemplate),
    })),
    lenientInvalidation: spec.invalidationMatching === "Lenient",
    identity: compileIdentity(spec.identity),
    forwarding: {
      trusted: trustedProxies(spec.forwarding.trustedProxies),
      headers: [...new Set(spec.forwarding.headers.map((name) => name.toLowerCase()))],
    },
    upstreamTimeoutMs: durationMs(spec.upstream.timeout),
    warm: spec.warm.map((warm) => ({
      path: warm.path,
      everyMs: durationMs(warm.every),
      ...(warm.host === undefined ? {} : { host: warm.host }),
    })),
    store: {
      keyPrefix: spec.store.redis?.keyPrefix ?? label,
      memoryMaxBytes: quantityBytes(spec.store.memory.maxBytes),
      maxEntryAgeMs: durationMs(spec.store.memory.maxEntryAge),
      commandTimeoutMs: durationMs(spec.store.redis?.commandTimeout ?? "50ms"),
    },
  };
}

/**
 * Content negotiation fields fills send and keys hold (key.negotiation: Keyed, the default): an app that
 * answers by Accept or Accept-Language without saying so in Vary (common) still never serves one
 * client's format or language to another.
 */
const NEGOTIATION = ["accept", "accept-language"] as const;

function compileRoute(route: Route): CompiledRoute {
  return {
    name: route.name,
    matcher: matcherFor(route.path),
    methods: new Set(route.methods),
    rules: {
      ttlMs: durationMs(route.ttl),
      staleWhileRevalidateMs: durationMs(route.staleWhileRevalidate),
      staleIfErrorMs: durationMs(route.staleIfError),
      maxBodyBytes: quantityBytes(route.maxBodyBytes),
      ttlFrom: route.ttlFrom,
      cacheableStatuses: new Set(route.cacheableStatuses),
      negativeTtlMs: durationMs(route.negativeTtl),
      scope: route.key.scope,
    },
    keyQuery: [...route.key.query].sort(),
    keyHeaders: [
      ...new Set([
        ...(route.key.negotiation === "Keyed" ? NEGOTIATION : []),
        ...route.key.headers.map((name) => name.toLowerCase()),
      ]),
    ].sort(),
    tags: route.tags.map(compileTagTemplate),
  };
}

function compileIdentity(identity: SidecarPolicy["spec"]["identity"]): CompiledIdentity {
  const headers = [
    ...new Set(["authorization", ...identity.headers.map((name) => name.toLowerCase())]),
  ].sort();
  return identity.cookies ? { headers, cookies: [...identity.cookies].sort() } : { headers };
}

function matcherFor(path: string, options: MatcherOptions = {}): PathMatcher {
  const parsed = parsePathTemplate(path);
  // The policy parser has rejected bad templates already; this guards direct callers.
  if (!parsed.ok) throw new RangeError(`invalid path template ${JSON.stringify(path)}: ${parsed.message}`);
  return compilePathMatcher(parsed.template, options);
}

export interface RouteMatch {
  readonly route: CompiledRoute;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * The first route, in declared order, whose path matches and which caches this method. A route whose
 * path matches but which does not list the method is skipped, so a later route may take it.
 */
export function matchRoute(
  policy: CompiledPolicy,
  method: string,
  segments: readonly string[],
): RouteMatch | undefined {
  for (const route of policy.routes) {
    if (!route.methods.has(method)) continue;
    const params = route.matcher.match(segments);
    if (params) return { route, params };
  }
  return undefined;
}

/**
 * The first route, in declared order, whose path matches whatever the method: the route a write or an
 * uncached method is labelled with in the metrics (and told "method-not-cached" from "no-route" by).
 */
export function firstRouteForPath(
  policy: CompiledPolicy,
  segments: readonly string[],
): CompiledRoute | undefined {
  for (const route of policy.routes) if (route.matcher.match(segments)) return route;
  return undefined;
}

export interface InvalidationMatch {
  readonly rule: string;
  readonly tags: readonly string[];
  /** The rule has body fields and the body did not give them all: its fallbackTags were used. */
  readonly fallback?: true;
}

/**
 * Every invalidate rule the write matches (all of them, not the first; leniently unless the policy says
 * Strict: literal segments ignore letter case, a trailing slash is ignored), with its tags filled in from
 * the path parameters and, for rules with body fields, from `body()` (the request body as a JSON
 * object, read only if such a rule matches) — or the rule's fallbackTags when the body lacks a field.
 */
export function matchInvalidations(
  policy: CompiledPolicy,
  method: string,
  path: string,
  body: () => Readonly<Record<string, unknown>> | undefined = () => undefined,
): InvalidationMatch[] {
  const segments = pathSegments(path);
  // Lenient: `/a/1/` is `/a/1` (repeated slashes are gone already: normalizePath drops empty segments).
  if (policy.lenientInvalidation && segments.at(-1) === "") segments.pop();
  const matches: InvalidationMatch[] = [];
  let parsed: { value: Readonly<Record<string, unknown>> | undefined } | undefined;
  for (const rule of policy.invalidations) {
    if (!rule.methods.has(method)) continue;
    const params = rule.matcher.match(segments);
    if (!params) continue;
    if (rule.bodyFields.length === 0) {
      matches.push({ rule: rule.name, tags: rule.tags.map((fill) => fill(params)) });
      continue;
    }
    parsed ??= { value: body() };
    const fields = bodyFieldValues(parsed.value, rule.bodyFields);
    if (fields === undefined) {
      matches.push({ rule: rule.name, tags: rule.fallbackTags.map((fill) => fill(params)), fallback: true });
    } else {
      const all: Record<string, string> = { ...params };
      for (const field in fields) all[field] = bodyFieldSegment(fields[field] as string);
      matches.push({ rule: rule.name, tags: rule.tags.map((fill) => fill(all)) });
    }
  }
  return matches;
}

/** The route's tags for a request, filled from its path params. */
export function routeTags(match: RouteMatch): string[] {
  return match.route.tags.map((fill) => fill(match.params));
}
