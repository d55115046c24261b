import type {
  DefaultsSpec,
  ForwardingSpec,
  IdentitySpec,
  InvalidationRuleSpec,
  LabelSelector,
  MemoryStoreSpec,
  PolicySidecarSpec,
  RedisStoreSpec,
  RouteKeySpec,
  RouteSpec,
  UpstreamSpec,
  WarmSpec,
} from "./schema.js";

/**
 * The normalized CachePolicy `parseCachePolicy` returns: every default applied, every route carrying
 * its effective settings, optional lists present (possibly empty). Derived from the schema's types,
 * so a field added to the schema shows up here (or fails to compile) by itself.
 */
type Filled<T> = { [K in keyof T]-?: Exclude<T[K], undefined> };

export type Route = Omit<Filled<RouteSpec>, "key"> & { readonly key: Filled<RouteKeySpec> };
export type InvalidationRule = Filled<InvalidationRuleSpec>;
export type Defaults = Filled<DefaultsSpec>;
export type Identity = Filled<IdentitySpec>;
export type RedisStore = Filled<RedisStoreSpec>;
export type MemoryStore = Filled<MemoryStoreSpec>;
export type Upstream = Filled<UpstreamSpec>;
export type Forwarding = Filled<ForwardingSpec>;
export type Warm = WarmSpec;
export type Mode = "Enforce" | "Shadow" | "Off";

export interface NormalizedSpec {
  readonly selector: LabelSelector;
  readonly upstream: Upstream;
  readonly mode: Mode;
  readonly store: { readonly redis?: RedisStore; readonly memory: MemoryStore };
  /** Present only when the policy sets it: the injected container's settings (resources). */
  readonly sidecar?: PolicySidecarSpec;
  /** Present only when the policy sets it: its absence means "any cookie identifies". */
  readonly identity: { readonly headers: readonly string[]; readonly cookies?: readonly string[] };
  readonly forwarding: Forwarding;
  readonly defaults: Defaults;
  readonly routes: readonly Route[];
  readonly invalidate: readonly InvalidationRule[];
  readonly invalidationMatching: "Lenient" | "Strict";
  readonly clientNoCache: "Ignore" | "Honor";
  readonly warm: readonly Warm[];
}

export interface PolicyMetadata {
  readonly name: string;
  readonly namespace: string;
  readonly generation?: number;
  readonly uid?: string;
}

export interface CachePolicy {
  readonly apiVersion: "apicache.io/v1alpha1";
  readonly kind: "CachePolicy";
  readonly metadata: PolicyMetadata;
  readonly spec: NormalizedSpec;
}
