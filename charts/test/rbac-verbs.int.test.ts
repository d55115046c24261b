// The chart's RBAC against the operator's code: every (API group, resource, verb) the code needs is
// granted by the rendered ClusterRole/Role, and every one granted is needed. What the code needs is
// derived from operator/src (every .ts file below it except tests, wherever it lives):
//   - calls of @kubernetes/client-node API methods (readNamespacedSecret → get secrets, …);
//   - an informer's list function (`list: () => ….listX(…)`): list, and watch on the same resource;
//   - objects written through the generic KubernetesObjectApi (server-side apply or create): their
//     kind is read from the manifest literals the code builds (`apiVersion, kind: "…", metadata`);
//   - what the API server requires besides the call: a Role the operator writes may only grant what the
//     operator holds (RBAC escalation check), and an ownerReference with blockOwnerDeletion needs
//     update on the owner's finalizers (OwnerReferencesPermissionEnforcement, on OpenShift).
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { GROUP, PLURAL } from "@apicache/crds";
import * as clientNode from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { type K8sObject, template } from "./helm.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const SOURCE_DIR = join(REPO, "operator", "src");

/** client-node method name prefix → RBAC verb (longest prefix first). */
const METHOD_VERBS: readonly (readonly [prefix: string, verb: string])[] = [
  ["deleteCollection", "deletecollection"],
  ["read", "get"],
  ["get", "get"],
  ["list", "list"],
  ["create", "create"],
  ["replace", "update"],
  ["patch", "patch"],
  ["delete", "delete"],
];

interface Resource {
  readonly group: string;
  readonly resource: string;
}

/** The kind in a client-node method name (or a manifest's or owner reference's kind) → group and resource. */
const KINDS: Readonly<Record<string, Resource>> = {
  ConfigMap: { group: "", resource: "configmaps" },
  Secret: { group: "", resource: "secrets" },
  Pod: { group: "", resource: "pods" },
  Event: { group: "", resource: "events" },
  LimitRange: { group: "", resource: "limitranges" },
  Lease: { group: "coordination.k8s.io", resource: "leases" },
  Role: { group: "rbac.authorization.k8s.io", resource: "roles" },
  RoleBinding: { group: "rbac.authorization.k8s.io", resource: "rolebindings" },
  MutatingWebhookConfiguration: {
    group: "admissionregistration.k8s.io",
    resource: "mutatingwebhookconfigurations",
  },
  CachePolicy: { group: GROUP, resource: PLURAL },
  // CustomObjectsApi's methods: CachePolicies are the only custom resource the operator reads or writes.
  CustomObject: { group: GROUP, resource: PLURAL },
};

/**
 * Objects written through the generic KubernetesObjectApi, by kind: the verbs each write needs. Which
 * call (apply or create) a manifest goes through is decided at runtime, so it is stated here, and the
 * test fails when the code builds a manifest kind this table does not name (or no longer builds one).
 */
const GENERIC_WRITES: Readonly<Record<string, { readonly verbs: readonly string[]; readonly why: string }>> =
  {
    ConfigMap: { verbs: ["patch", "create"], why: "server-side apply; the first apply creates it" },
    Role: { verbs: ["patch", "create"], why: "server-side apply; the first apply creates it" },
    RoleBinding: { verbs: ["patch", "create"], why: "server-side apply; the first apply creates it" },
    MutatingWebhookConfiguration: {
      verbs: ["patch"],
      why: "server-side apply of the chart's own configuration (caBundle); the chart creates it (ADR 0007)",
    },
    Secret: { verbs: ["create"], why: "the admin token Secret: created once, never re-applied" },
    Lease: { verbs: [], why: "written with CoordinationV1Api's typed calls, counted from those" },
  };

interface Need {
  readonly group: string;
  readonly resource: string;
  readonly verb: string;
  /** Where in operator/src, and why. */
  readonly source: string;
}

interface SourceFile {
  readonly path: string;
  readonly text: string;
}

/** Test-only code that may still sit below src/ (its manifests are fixtures, not writes). */
const NOT_SHIPPED = /(^|\/)(testing|fixtures|__fixtures__)(\/|$)|\.test\.ts$|fixture/;

function sourceFiles(dir: string = SOURCE_DIR): SourceFile[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (NOT_SHIPPED.test(relative(SOURCE_DIR, path))) return [];
    if (entry.isDirectory()) return sourceFiles(path);
    if (!entry.name.endsWith(".ts")) return [];
    return [{ path: relative(REPO, path), text: readFileSync(path, "utf8") }];
  });
}

function lineOf(file: SourceFile, index: number): string {
  return `${file.path}:${file.text.slice(0, index).split("\n").length}`;
}

/**
 * Every method of the client-node API classes of resources: the versioned groups' (CoreV1Api,
 * RbacAuthorizationV1Api, …) and CustomObjectsApi. Not VersionApi (GET /version, which every
 * authenticated user may read) nor the generic KubernetesObjectApi (see GENERIC_WRITES).
 */
const API_METHODS = new Set(
  Object.entries(clientNode)
    .filter(
      ([name, value]) =>
        /(V[0-9]+((alpha|beta)[0-9]+)?|CustomObjects)Api$/.test(name) && typeof value === "function",
    )
    .flatMap(([, value]) => Object.getOwnPropertyNames((value as { prototype: object }).prototype))
    .filter((method) => method !== "constructor"),
);

/** readNamespacedSecret → get secrets; patchNamespacedCustomObjectStatus → patch cachepolicies/status. */
function verbOfMethod(method: string): { verb: string; resource: Resource } | string {
  const name = method.replace(/WithHttpInfo$/, "");
  const entry = METHOD_VERBS.find(([prefix]) => name.startsWith(prefix));
  if (!entry) return `no verb for method ${method}: add its prefix to METHOD_VERBS`;
  let kind = name
    .slice(entry[0].length)
    .replace(/^(Namespaced|Cluster)/, "")
    .replace(/ForAllNamespaces$/, "");
  let subresource = "";
  if (!KINDS[kind] && kind.endsWith("Status")) {
    kind = kind.slice(0, -"Status".length);
    subresource = "/status";
  }
  const resource = KINDS[kind];
  if (!resource) return `no resource for kind ${kind} (method ${method}): add it to KINDS`;
  return {
    verb: entry[1],
    resource: { group: resource.group, resource: `${resource.resource}${subresource}` },
  };
}

function apiCalls(file: SourceFile, problems: string[]): Need[] {
  const needs: Need[] = [];
  for (const match of file.text.matchAll(/\.([a-z][A-Za-z]*)\(/g)) {
    const method = match[1] ?? "";
    if (!API_METHODS.has(method)) continue;
    const where = lineOf(file, match.index);
    const mapped = verbOfMethod(method);
    if (typeof mapped === "string") problems.push(`${where}: ${mapped}`);
    else needs.push({ ...mapped.resource, verb: mapped.verb, source: `${where} ${method}` });
  }
  return needs;
}

/** An informer lists with its `list` function and then watches the same resource. */
function informerWatches(file: SourceFile): Need[] {
  const pattern = /\blist:\s*(?:async\s*)?\([^)]*\)\s*=>[\s\S]{0,160}?\.(list[A-Z][A-Za-z]*)\(/g;
  return [...file.text.matchAll(pattern)].flatMap((match) => {
    const mapped = verbOfMethod(match[1] ?? "");
    if (typeof mapped === "string") return [];
    return [
      { ...mapped.resource, verb: "watch", source: `${lineOf(file, match.index)} informer on ${match[1]}` },
    ];
  });
}

const MANIFEST = /apiVersion:[^,\n]+,\s*kind:\s*"([A-Za-z]+)",\s*metadata:/g;

/** Kinds of the manifests the code builds (not owner references, not involvedObjects: no metadata). */
function manifestKinds(file: SourceFile): { kind: string; where: string; index: number }[] {
  return [...file.text.matchAll(MANIFEST)].map((m) => ({
    kind: m[1] ?? "",
    where: lineOf(file, m.index),
    index: m.index,
  }));
}

/** The names the code gives its KubernetesObjectApi clients, and the generic methods it calls on them. */
function genericCalls(file: SourceFile): { method: string; where: string }[] {
  const names = new Set(
    [
      ...file.text.matchAll(/(\w+)\??\s*:\s*KubernetesObjectApi\b/g),
      ...file.text.matchAll(/(\w+)\s*=\s*KubernetesObjectApi\.makeApiClient/g),
    ].map((m) => m[1]),
  );
  return [...names].flatMap((name) =>
    [...file.text.matchAll(new RegExp(`\\b${name}\\.(\\w+)\\(`, "g"))].map((m) => ({
      method: m[1] ?? "",
      where: lineOf(file, m.index),
    })),
  );
}

function stringsIn(list: string | undefined): string[] {
  return [...(list ?? "").matchAll(/"([^"]*)"/g)].map((m) => m[1] ?? "");
}

/** A Role the code writes grants these; RBAC lets it do so only if it holds them itself. */
function escalationNeeds(file: SourceFile, roles: { where: string; index: number }[]): Need[] {
  return roles.flatMap(({ where, index }) => {
    const body = file.text.slice(index, file.text.indexOf("\n}", index));
    const rule = {
      groups: stringsIn(/apiGroups:\s*\[([^\]]*)\]/.exec(body)?.[1]),
      resources: stringsIn(/resources:\s*\[([^\]]*)\]/.exec(body)?.[1]),
      verbs: stringsIn(/verbs:\s*\[([^\]]*)\]/.exec(body)?.[1]),
    };
    return rule.groups.flatMap((group) =>
      rule.resources.flatMap((resource) =>
        rule.verbs.map((verb) => ({
          group,
          resource,
          verb,
          source: `${where} grants it in a Role (escalation check)`,
        })),
      ),
    );
  });
}

/** blockOwnerDeletion on an owner reference needs update on the owner's finalizers. */
function finalizerNeeds(file: SourceFile, problems: string[]): Need[] {
  const pattern = /kind:\s*"([A-Za-z]+)",[^}]*?blockOwnerDeletion:\s*true/g;
  return [...file.text.matchAll(pattern)].flatMap((match) => {
    const owner = KINDS[match[1] ?? ""];
    const where = lineOf(file, match.index);
    if (!owner) {
      problems.push(`${where}: owner kind ${match[1]} is not in KINDS`);
      return [];
    }
    const source = `${where} sets blockOwnerDeletion (OwnerReferencesPermissionEnforcement)`;
    return [{ group: owner.group, resource: `${owner.resource}/finalizers`, verb: "update", source }];
  });
}

interface Derived {
  readonly needs: Need[];
  readonly problems: string[];
  readonly manifestKinds: Set<string>;
}

function derive(files: readonly SourceFile[]): Derived {
  const problems: string[] = [];
  const needs: Need[] = [];
  const kinds = new Set<string>();
  for (const file of files) {
    needs.push(...apiCalls(file, problems), ...informerWatches(file), ...finalizerNeeds(file, problems));
    const manifests = manifestKinds(file);
    for (const { kind, where } of manifests) {
      kinds.add(kind);
      const write = GENERIC_WRITES[kind];
      const resource = KINDS[kind];
      if (!write || !resource) continue;
      for (const verb of write.verbs)
        needs.push({ ...resource, verb, source: `${where} builds a ${kind}: ${write.why}` });
    }
    needs.push(
      ...escalationNeeds(
        file,
        manifests.filter((m) => m.kind === "Role"),
      ),
    );
    for (const { method, where } of genericCalls(file)) {
      if (method === "create") continue;
      if (method === "patch" && file.text.includes("PatchStrategy.ServerSideApply")) continue;
      problems.push(
        `${where}: KubernetesObjectApi.${method}: not covered by GENERIC_WRITES (only apply and create are)`,
      );
    }
  }
  return { needs, problems, manifestKinds: kinds };
}

const key = (n: { group: string; resource: string; verb: string }) =>
  `${n.group || "core"} ${n.resource} ${n.verb}`;

interface Rule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
}

/** Every (group, resource, verb) the chart's ClusterRole and Role grant (resourceNames aside). */
function granted(objects: readonly K8sObject[]): Set<string> {
  const rules = objects
    .filter((o) => o.kind === "ClusterRole" || o.kind === "Role")
    .flatMap((o) => (o as unknown as { rules: Rule[] }).rules);
  return new Set(
    rules.flatMap((rule) =>
      rule.apiGroups.flatMap((group) =>
        rule.resources.flatMap((resource) => rule.verbs.map((verb) => key({ group, resource, verb }))),
      ),
    ),
  );
}

describe("the chart's RBAC and the verbs the operator's code uses", async () => {
  const derived = derive(sourceFiles());
  const needed = new Map<string, string[]>();
  for (const need of derived.needs) needed.set(key(need), [...(needed.get(key(need)) ?? []), need.source]);
  const chart = granted(await template("helm4"));

  it("maps every client-node call, generic write and owner reference in operator/src", () => {
    expect(derived.problems).toEqual([]);
  });

  it("knows how the code writes every kind of manifest it builds", () => {
    expect(
      [...derived.manifestKinds].sort(),
      "GENERIC_WRITES must name exactly the manifest kinds operator/src builds",
    ).toEqual(Object.keys(GENERIC_WRITES).sort());
  });

  it("grants every verb the code uses", () => {
    const missing = [...needed]
      .filter(([k]) => !chart.has(k))
      .map(([k, sources]) => `not granted: ${k} (used by ${sources.join("; ")})`);
    expect(missing, "add these to charts/apicache/templates/rbac.yaml").toEqual([]);
  });

  it("grants no verb the code does not use", () => {
    const extra = [...chart].filter((k) => !needed.has(k)).map((k) => `granted but unused: ${k}`);
    expect(
      extra,
      "nothing in operator/src uses these: remove them from charts/apicache/templates/rbac.yaml",
    ).toEqual([]);
  });

  it("grants nothing more in cert-manager mode", async () => {
    const certManager = granted(await template("helm4", { "webhook.certificate.mode": "cert-manager" }));
    expect([...certManager].filter((k) => !chart.has(k))).toEqual([]);
  });
});

describe("verbOfMethod", () => {
  it.each([
    ["readNamespacedSecret", "get", "", "secrets"],
    ["listConfigMapForAllNamespaces", "list", "", "configmaps"],
    ["replaceNamespacedLease", "update", "coordination.k8s.io", "leases"],
    ["patchNamespacedCustomObjectStatus", "patch", GROUP, `${PLURAL}/status`],
    ["listClusterCustomObject", "list", GROUP, PLURAL],
    ["deleteCollectionNamespacedPodWithHttpInfo", "deletecollection", "", "pods"],
    [
      "readMutatingWebhookConfiguration",
      "get",
      "admissionregistration.k8s.io",
      "mutatingwebhookconfigurations",
    ],
  ])("maps %s to %s on %s/%s", (method, verb, group, resource) => {
    expect(verbOfMethod(method)).toEqual({ verb, resource: { group, resource } });
  });

  it("names what is missing for a kind it does not know", () => {
    expect(verbOfMethod("listNamespacedDeployment")).toMatch(/no resource for kind Deployment/);
  });
});
