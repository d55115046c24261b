// biome-ignore lint/correctness/noUnusedImports: named so tsc's declaration emit can refer to TypeBox's symbol keys (TS4023).
import type { Hint, Kind, OptionalKind, ReadonlyKind } from "@sinclair/typebox";
import { type Static, Type } from "@sinclair/typebox";
import { CACHEABLE_METHODS, type HTTP_METHODS, UNSAFE_METHODS } from "./http-methods.js";
import {
  ByteSize,
  DnsLabel,
  Duration,
  HeaderName,
  PortRef,
  ResourceQuantity,
  SetOf,
  StringEnum,
} from "./kinds.js";
import { withRules } from "./rules.js";
import { SIDECAR_MEMORY_LIMIT_TEXT } from "./sidecar-memory.js";

/**
 * The CachePolicy API, apicache.io/v1alpha1 — the one definition. The TypeScript types (`Static`), the
 * runtime parser and the generated CRD YAML (`make manifests`) all come from these schemas.
 * Descriptions become `kubectl explain` text and the generated reference in docs/.
 */

export const GROUP = "apicache.io";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = "CachePolicy";
export const PLURAL = "cachepolicies";
export const SINGULAR = "cachepolicy";
export const SHORT_NAMES = ["cp"] as const;

const LABEL_VALUE = Type.String({ maxLength: 63, description: "A label value." });

export const LabelSelectorSchema = withRules(
  Type.Object(
    {
      matchLabels: Type.Optional(
        Type.Record(Type.String({ maxLength: 317 }), LABEL_VALUE, {
          maxProperties: 32,
          description: "Pods whose labels contain every one of these key/value pairs.",
          example: { app: "booking-api" },
        }),
      ),
      matchExpressions: Type.Optional(
        Type.Array(
          withRules(
            Type.Object(
              {
                key: Type.String({ minLength: 1, maxLength: 317, description: "The label key." }),
                operator: StringEnum(["In", "NotIn", "Exists", "DoesNotExist"], {
                  description: "How the key's value is compared with `values`.",
                }),
                values: Type.Optional(
                  Type.Array(LABEL_VALUE, { maxItems: 64, description: "Values for In and NotIn." }),
                ),
              },
              {
                additionalProperties: false,
                description:
                  "A requirement on one label: its key, an operator and, for In and NotIn, values.",
              },
            ),
            {
              // As Kubernetes validates a LabelSelector: In/NotIn with no values selects nothing or all.
              rule: "self.operator in ['In', 'NotIn'] ? (has(self.values) && size(self.values) > 0) : (!has(self.values) || size(self.values) == 0)",
              message: "In and NotIn need at least one value; Exists and DoesNotExist take none",
              check: (self: { operator: string; values?: unknown[] }) =>
                self.operator === "In" || self.operator === "NotIn"
                  ? (self.values ?? []).length > 0
                  : (self.values ?? []).length === 0,
            },
          ),
          { maxItems: 16, description: "Set-based requirements, all of which must hold." },
        ),
      ),
    },
    {
      additionalProperties: false,
      description: "Which pods (in the policy's namespace) the sidecar is injected into. Must not be empty.",
    },
  ),
  {
    rule: "(has(self.matchLabels) && size(self.matchLabels) > 0) || (has(self.matchExpressions) && size(self.matchExpressions) > 0)",
    message: "selector must select pods: set matchLabels or matchExpressions",
    check: (self: { matchLabels?: object; matchExpressions?: unknown[] }) =>
      Object.keys(self.matchLabels ?? {}).length > 0 || (self.matchExpressions ?? []).length > 0,
  },
);

export const UpstreamSchema = Type.Object(
  {
    port: PortRef({
      description:
        "The application container port the sidecar fronts, by name or number. With a name, the sidecar takes over that name so Services with a named targetPort reach the cache without being edited.",
      example: "http",
    }),
    timeout: Type.Optional(
      Duration(
        { min: "100ms", max: "10m" },
        { description: "How long the sidecar waits for the upstream's response headers.", default: "30s" },
      ),
    ),
  },
  { additionalProperties: false, description: "The application the sidecar sits in front of." },
);

const SecretKeyRef = (description: string) =>
  Type.Object(
    {
      name: DnsLabel({ description: "Secret name, in the policy's namespace." }),
      key: Type.String({ minLength: 1, maxLength: 253, description: "Key inside the Secret." }),
    },
    { additionalProperties: false, description },
  );

export const RedisStoreSchema = Type.Object(
  {
    urlSecretRef: SecretKeyRef(
      "Secret key holding the Redis URL (redis://, rediss://, redis+cluster://host:port,host:port for Redis Cluster, or redis+sentinel://host:port,host:port/primary-name for Redis Sentinel). Credentials never land in a ConfigMap: the sidecar receives it as an environment variable reference.",
    ),
    keyPrefix: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        pattern: "^[A-Za-z0-9._:/-]+$",
        description:
          "Prefix of every key this policy writes. Defaults to <namespace>/<name>, isolating tenants.",
        example: "shop/booking-api",
      }),
    ),
    commandTimeout: Type.Optional(
      Duration(
        { min: "1ms", max: "5s" },
        {
          description: "Per-command Redis timeout. On timeout the request falls through to the upstream.",
          default: "50ms",
        },
      ),
    ),
  },
  { additionalProperties: false, description: "Shared L2 store. Absent: each pod caches in memory only." },
);

export const MemoryStoreSchema = Type.Object(
  {
    maxBytes: Type.Optional(
      ByteSize({ description: "Bound of the in-process LRU tier (L1), in bytes.", default: "64Mi" }),
    ),
    maxEntryAge: Type.Optional(
      Duration(
        { min: "0s", max: "1h" },
        {
          description:
            "With Redis configured: the longest an L1 entry is served without re-checking Redis. Other pods' invalidations reach every pod's L1 at once (Redis pushes them; while that channel is down L1 is not used), so this is a safety net for what a push cannot carry. 0s disables L1 in front of Redis.",
          default: "5m",
        },
      ),
    ),
  },
  { additionalProperties: false, description: "The in-process tier (L1)." },
);

export const StoreSchema = Type.Object(
  {
    redis: Type.Optional(RedisStoreSchema),
    memory: Type.Optional(MemoryStoreSchema),
  },
  { additionalProperties: false, description: "Where cached responses live.", default: {} },
);

const ResourceListSchema = (what: string) =>
  Type.Object(
    {
      cpu: Type.Optional(ResourceQuantity({ description: `CPU ${what} of the sidecar, e.g. 500m.` })),
      memory: Type.Optional(ResourceQuantity({ description: `Memory ${what} of the sidecar, e.g. 256Mi.` })),
    },
    { additionalProperties: false, description: `The sidecar container's resource ${what}s.` },
  );

export const SidecarResourcesSchema = Type.Object(
  {
    requests: Type.Optional(ResourceListSchema("request")),
    limits: Type.Optional(ResourceListSchema("limit")),
  },
  {
    additionalProperties: false,
    description: `Resources of the injected sidecar container. Each field set here wins over the operator-wide default (chart value sidecar.resources); unset fields keep it. The default memory limit is ${SIDECAR_MEMORY_LIMIT_TEXT} (store.memory.maxBytes); a memory limit below maxBytes is raised to that, and one below that draws an admission warning. A LimitRange in the pod's namespace clamps the result into its range.`,
  },
);

export const SidecarSchema = Type.Object(
  { resources: Type.Optional(SidecarResourcesSchema) },
  { additionalProperties: false, description: "Settings of the injected sidecar container." },
);

export const IdentitySchema = Type.Object(
  {
    headers: Type.Optional(
      SetOf(HeaderName({ description: "A header name." }), 8, {
        description:
          "Request headers that identify the caller (e.g. Authorization). A request carrying one is never served from or stored in a Public entry; PerUser routes key on a hash of their values.",
        example: ["Authorization"],
      }),
    ),
    cookies: Type.Optional(
      SetOf(
        Type.String({
          minLength: 1,
          maxLength: 128,
          pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$",
          description: "A cookie name.",
        }),
        16,
        {
          description:
            "Cookies that identify the caller. When unset, any Cookie header makes a request identifying; when set, only these do, and PerUser routes key on their values.",
          example: ["session"],
        },
      ),
    ),
  },
  { additionalProperties: false, description: "How the sidecar recognises the user behind a request." },
);

/** Where in-cluster proxies (ingress controllers, gateways, meshes) usually connect from. */
export const DEFAULT_TRUSTED_PROXIES = [
  "127.0.0.0/8",
  "::1/128",
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "100.64.0.0/10",
  "fc00::/7",
] as const;

export const DEFAULT_FORWARD_ONLY = ["traceparent", "tracestate", "X-Request-Id"] as const;

export const ForwardingSchema = Type.Object(
  {
    trustedProxies: Type.Optional(
      SetOf(
        Type.String({
          minLength: 3,
          maxLength: 43,
          pattern: "^[0-9A-Fa-f.:]+/[0-9]{1,3}$",
          description: "An address range in CIDR notation.",
        }),
        32,
        {
          description:
            "Peers whose X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-For the sidecar believes. From any other peer the scheme is the connection's, the forwarded host is Host and the client is the peer. Whatever it believes, the scheme and the forwarded host are part of every cache key, so a forged value can only shape the forger's own entries.",
          default: [...DEFAULT_TRUSTED_PROXIES],
        },
      ),
    ),
    headers: Type.Optional(
      SetOf(HeaderName({ description: "A header name." }), 16, {
        description:
          "Request headers forwarded on cache fills that never change the response (tracing, request ids): never part of the key. The fill that stores an entry carries the values of the request that led it. Declaring a header here that the response does depend on serves one client's answer to others; use route key.headers for those.",
        default: [...DEFAULT_FORWARD_ONLY],
      }),
    ),
  },
  {
    additionalProperties: false,
    description: "What cache fills tell the upstream about the client, beyond the key.",
    default: {},
  },
);

const TTL = (description: string, defaultValue?: string) =>
  Duration(
    { min: "1s", max: "168h" },
    defaultValue ? { description, default: defaultValue } : { description },
  );
const STALE = (description: string, defaultValue?: string) =>
  Duration(
    { min: "0s", max: "168h" },
    defaultValue ? { description, default: defaultValue } : { description },
  );
const CACHEABLE_STATUSES = Type.Array(
  Type.Integer({ minimum: 200, maximum: 599, description: "An HTTP status code." }),
  {
    maxItems: 32,
    "x-kubernetes-list-type": "set",
    description:
      "Response statuses that may be stored. Statuses of 400 and above are stored for at most negativeTtl.",
  },
);

export const DefaultsSchema = Type.Object(
  {
    ttl: Type.Optional(TTL("How long a stored response stays fresh.", "5m")),
    staleWhileRevalidate: Type.Optional(
      STALE(
        "After expiry, how long a stale response is served while one background request refreshes it.",
        "30s",
      ),
    ),
    staleIfError: Type.Optional(
      STALE(
        "After expiry, how long a stale response is served when the upstream fails (error, timeout, 5xx).",
        "10m",
      ),
    ),
    maxBodyBytes: Type.Optional(
      ByteSize({
        description: "Largest body stored; larger responses stream through uncached.",
        default: "1Mi",
      }),
    ),
    ttlFrom: Type.Optional(
      StringEnum(["Policy", "Upstream"], {
        description:
          "Policy: the policy's ttl decides freshness. Upstream: the response's s-maxage or max-age decides when present, the policy's ttl otherwise. no-store and private are honoured either way.",
        default: "Policy",
      }),
    ),
    cacheableStatuses: Type.Optional({
      ...CACHEABLE_STATUSES,
      default: [200, 203, 204, 300, 301, 308, 404, 410],
    }),
    negativeTtl: Type.Optional(
      TTL("Freshness cap for stored error statuses (404, 410, …): short negative caching.", "10s"),
    ),
  },
  {
    additionalProperties: false,
    description: "Defaults for every route; a route may override each.",
    default: {},
  },
);

export const RouteKeySchema = Type.Object(
  {
    query: Type.Optional(
      SetOf(Type.String({ minLength: 1, maxLength: 128, description: "A query parameter name." }), 32, {
        description: "Query parameters that are part of the key (order-insensitive); all others are ignored.",
        example: ["date"],
      }),
    ),
    headers: Type.Optional(
      SetOf(HeaderName({ description: "A header name." }), 16, {
        description: "Request headers that are part of the key.",
        example: ["Accept-Language"],
      }),
    ),
    negotiation: Type.Optional(
      StringEnum(["Keyed", "Dropped"], {
        description:
          "Keyed: Accept and Accept-Language are sent on fills and part of the key, so an app that negotiates format or language without Vary never serves one client's answer to another. Dropped: they are not sent (the app answers its default representation) and one entry serves every client, unless the app's Vary names them.",
        default: "Keyed",
      }),
    ),
    scope: Type.Optional(
      StringEnum(["Public", "PerUser"], {
        description:
          "Public: one entry shared by every caller (identifying requests bypass it). PerUser: the key includes a hash of the caller's identity (spec.identity); the raw credential is never stored.",
        default: "Public",
      }),
    ),
  },
  { additionalProperties: false, description: "What makes two requests share an entry.", default: {} },
);

const PATH = (description: string, example: string) =>
  withRules(Type.String({ minLength: 1, maxLength: 512, description, example }), {
    rule: "self.startsWith('/')",
    message: "path must start with /",
    check: (self: string) => self.startsWith("/"),
  });

const TAGS = (options: { minItems?: number; example: string[]; description?: string }) =>
  Type.Array(
    Type.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9_.:/{}-]+$", description: "A tag." }),
    {
      maxItems: 16,
      "x-kubernetes-list-type": "set",
      description: "Tags; `{param}` is replaced with the path parameter of that name.",
      ...options,
    },
  );

export const RouteSchema = Type.Object(
  {
    name: DnsLabel({
      description: "Unique name of the route; labels metrics and logs.",
      example: "available-slots",
    }),
    path: PATH(
      "Path template: `:name` captures a segment, `*` matches one segment, a trailing `**` matches the rest.",
      "/api/v2/barbers/:barberId/slots",
    ),
    methods: Type.Optional(
      SetOf(StringEnum(CACHEABLE_METHODS, { description: "A safe method." }), 2, {
        description: "Methods cached on this route. HEAD is answered from a cached GET.",
        default: ["GET", "HEAD"],
      }),
    ),
    ttl: Type.Optional(TTL("Overrides defaults.ttl.")),
    staleWhileRevalidate: Type.Optional(STALE("Overrides defaults.staleWhileRevalidate.")),
    staleIfError: Type.Optional(STALE("Overrides defaults.staleIfError.")),
    maxBodyBytes: Type.Optional(ByteSize({ description: "Overrides defaults.maxBodyBytes." })),
    ttlFrom: Type.Optional(
      StringEnum(["Policy", "Upstream"], { description: "Overrides defaults.ttlFrom." }),
    ),
    cacheableStatuses: Type.Optional({
      ...CACHEABLE_STATUSES,
      description: "Overrides defaults.cacheableStatuses.",
    }),
    negativeTtl: Type.Optional(TTL("Overrides defaults.negativeTtl.")),
    key: Type.Optional(RouteKeySchema),
    tags: Type.Optional(TAGS({ example: ["slots", "barber:{barberId}"] })),
  },
  {
    additionalProperties: false,
    description:
      "A cached route: which requests it matches, how their responses are keyed and how long they stay fresh.",
  },
);

export const InvalidationRuleSchema = withRules(
  Type.Object(
    {
      name: DnsLabel({
        description: "Unique name of the rule; labels metrics.",
        example: "appointment-written",
      }),
      path: PATH("Path template of the writes that trigger the rule.", "/api/v2/appointments/**"),
      methods: Type.Optional(
        SetOf(StringEnum(UNSAFE_METHODS, { description: "An unsafe method." }), 4, {
          description: "Methods that trigger the rule.",
          default: ["POST", "PUT", "PATCH", "DELETE"],
        }),
      ),
      bodyFields: Type.Optional(
        SetOf(
          Type.String({
            minLength: 1,
            maxLength: 63,
            pattern: "^[A-Za-z_][A-Za-z0-9_]*$",
            description: "A top-level field of the write's JSON request body.",
          }),
          8,
          {
            description:
              "Top-level fields of the write's JSON request body that `tags` may name as `{field}`, like path parameters (e.g. the barberId of POST /appointments). Read from bodies of at most 64 KiB with a JSON content type; string and number values only.",
            example: ["barberId"],
          },
        ),
      ),
      tags: TAGS({ minItems: 1, example: ["slots", "dashboard", "barber:{barberId}"] }),
      fallbackTags: Type.Optional(
        TAGS({
          example: ["slots", "dashboard"],
          description:
            "With bodyFields: invalidated instead of `tags` when the body does not give every field (not JSON, too large, a field missing or not a string or number). `{param}` names path parameters only.",
        }),
      ),
    },
    {
      additionalProperties: false,
      description:
        "Writes that invalidate: which requests match the rule, and the tags a successful one drops.",
    },
  ),
  {
    rule: "!has(self.bodyFields) || has(self.fallbackTags)",
    message:
      "an invalidate rule with bodyFields needs fallbackTags: what to invalidate when a write's body does not give them",
    fieldPath: ".fallbackTags",
    check: (self: { bodyFields?: string[]; fallbackTags?: string[] }) =>
      self.bodyFields === undefined || self.fallbackTags !== undefined,
  },
);

export const WarmSchema = Type.Object(
  {
    path: PATH("A concrete path (with query) to request through the cache.", "/api/v2/services?active=true"),
    every: Duration({ min: "10s", max: "24h" }, { description: "How often to refresh it.", example: "10m" }),
    host: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 259,
        pattern: "^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$",
        description:
          "The Host header the refresh carries, and so the key the entry is stored under: the host (and port, if clients send one) your clients use, e.g. the Service name. Default: the upstream's address (127.0.0.1:<port>). Warming never borrows a client's Host.",
        example: "booking-api.shop.svc",
      }),
    ),
  },
  {
    additionalProperties: false,
    description: "A path the sidecar requests through the cache on a schedule, so its entry stays fresh.",
  },
);

interface SpecForRules {
  routes?: { key?: { scope?: string } }[];
  identity?: { headers?: string[]; cookies?: string[] };
}

export const CachePolicySpecSchema = withRules(
  Type.Object(
    {
      selector: LabelSelectorSchema,
      upstream: UpstreamSchema,
      mode: Type.Optional(
        StringEnum(["Enforce", "Shadow", "Off"], {
          description:
            "Enforce: serve from cache. Shadow: decide and measure (would-be hits) but always answer from the upstream. Off: pass everything through.",
          default: "Enforce",
        }),
      ),
      store: Type.Optional(StoreSchema),
      sidecar: Type.Optional(SidecarSchema),
      identity: Type.Optional(IdentitySchema),
      forwarding: Type.Optional(ForwardingSchema),
      defaults: Type.Optional(DefaultsSchema),
      routes: Type.Optional(
        Type.Array(RouteSchema, {
          maxItems: 64,
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["name"],
          description: "Cached routes, matched in order: the first route whose path and method match wins.",
        }),
      ),
      invalidate: Type.Optional(
        Type.Array(InvalidationRuleSchema, {
          maxItems: 64,
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["name"],
          description:
            "Writes that drop cached entries: a successful (2xx/3xx) matching request drops every entry carrying one of the rule's tags.",
        }),
      ),
      invalidationMatching: Type.Optional(
        StringEnum(["Lenient", "Strict"], {
          description:
            "How a write's path is compared with invalidate rules' paths. Lenient: literal segments match whatever their letter case, and a trailing slash or repeated slashes do not matter (PUT /API/items/1/ matches /api/items/:id), as lenient routers such as Express's apply such writes; over-invalidating is safe, missing a write is not. Strict: exactly, after RFC 3986 normalization. Either way a write drops the cached entries of its own path in every spelling that differs only in letter case or a trailing slash.",
          default: "Lenient",
        }),
      ),
      clientNoCache: Type.Optional(
        StringEnum(["Ignore", "Honor"], {
          description:
            "What a client's Cache-Control: no-cache (or Pragma: no-cache) does on a cached route. Ignore: the request is answered from the cache like any other, as Varnish and nginx do by default, so no client can multiply the load on the app by asking for fresh copies. Honor: such a request goes to the upstream (Cache-Status detail=request-no-cache).",
          default: "Ignore",
        }),
      ),
      warm: Type.Optional(
        Type.Array(WarmSchema, {
          maxItems: 32,
          description: "Paths the sidecar keeps warm by refreshing them.",
        }),
      ),
    },
    { additionalProperties: false, description: "What to cache, for which pods, and where." },
  ),
  {
    rule: "!has(self.routes) || !self.routes.exists(r, has(r.key) && has(r.key.scope) && r.key.scope == 'PerUser') || (has(self.identity) && ((has(self.identity.headers) && size(self.identity.headers) > 0) || (has(self.identity.cookies) && size(self.identity.cookies) > 0)))",
    message:
      "routes with key.scope PerUser need spec.identity.headers or spec.identity.cookies to identify the user",
    fieldPath: ".identity",
    check: (self: SpecForRules) =>
      !(self.routes ?? []).some((route) => route.key?.scope === "PerUser") ||
      (self.identity?.headers ?? []).length + (self.identity?.cookies ?? []).length > 0,
  },
);

export const ConditionSchema = Type.Object(
  {
    type: Type.String({ maxLength: 316, description: "Ready, Valid or Degraded." }),
    status: StringEnum(["True", "False", "Unknown"], { description: "The condition's status." }),
    observedGeneration: Type.Optional(
      Type.Integer({
        minimum: 0,
        format: "int64",
        description: "The generation the condition was computed from.",
      }),
    ),
    lastTransitionTime: Type.String({ format: "date-time", description: "When the status last changed." }),
    reason: Type.String({
      minLength: 1,
      maxLength: 1024,
      pattern: "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
      description: "A CamelCase reason code (the metav1.Condition reason rule).",
    }),
    message: Type.String({ maxLength: 32768, description: "A human-readable explanation." }),
  },
  { description: "One condition of the policy, in the metav1.Condition shape." },
);

export const CachePolicyStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(
      Type.Integer({ format: "int64", description: "The generation this status describes." }),
    ),
    configHash: Type.Optional(Type.String({ description: "sha256 of the rendered sidecar configuration." })),
    selectedPods: Type.Optional(Type.Integer({ description: "Pods matching the selector." })),
    injectedPods: Type.Optional(Type.Integer({ description: "Selected pods running the sidecar." })),
    upToDatePods: Type.Optional(
      Type.Integer({ description: "Injected pods whose sidecar runs this configHash." }),
    ),
    conditions: Type.Optional(
      Type.Array(ConditionSchema, {
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["type"],
        description: "Ready, Valid and Degraded, in the metav1.Condition shape.",
      }),
    ),
  },
  { description: "What the operator observed and did." },
);

export const ObjectMetaSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 253 }),
    namespace: Type.Optional(Type.String({ maxLength: 63 })),
    generation: Type.Optional(Type.Integer()),
    uid: Type.Optional(Type.String()),
    resourceVersion: Type.Optional(Type.String()),
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
    annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: true },
);

export const CachePolicySchema = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal(KIND),
    metadata: ObjectMetaSchema,
    spec: CachePolicySpecSchema,
    status: Type.Optional(CachePolicyStatusSchema),
  },
  { additionalProperties: false },
);

export type LabelSelector = Static<typeof LabelSelectorSchema>;
export type CachePolicySpec = Static<typeof CachePolicySpecSchema>;
export type CachePolicyStatus = Static<typeof CachePolicyStatusSchema>;
export type Condition = Static<typeof ConditionSchema>;
export type RouteSpec = Static<typeof RouteSchema>;
export type RouteKeySpec = Static<typeof RouteKeySchema>;
export type InvalidationRuleSpec = Static<typeof InvalidationRuleSchema>;
export type WarmSpec = Static<typeof WarmSchema>;
export type DefaultsSpec = Static<typeof DefaultsSchema>;
export type StoreSpec = Static<typeof StoreSchema>;
export type RedisStoreSpec = Static<typeof RedisStoreSchema>;
export type MemoryStoreSpec = Static<typeof MemoryStoreSchema>;
export type IdentitySpec = Static<typeof IdentitySchema>;
export type PolicySidecarSpec = Static<typeof SidecarSchema>;
export type SidecarResourcesSpec = Static<typeof SidecarResourcesSchema>;
export type UpstreamSpec = Static<typeof UpstreamSchema>;
export type ForwardingSpec = Static<typeof ForwardingSchema>;
export type CachePolicyManifest = Static<typeof CachePolicySchema>;
export type HttpMethod = (typeof HTTP_METHODS)[number];
