import { createHash } from "node:crypto";
import { accessSync, constants, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type KubeTestkitConfig,
  kubeComponents,
  readKubeTestkitConfig,
  type ToolName,
  toolEnvVar,
  toolNames,
} from "./config.js";
import { KubeTestkitError } from "./errors.js";

/**
 * Where the test binaries live: the TypeScript twin of `hack/tools.sh path NAME`.
 * Order: APICACHE_<TOOL> env var, then KUBEBUILDER_ASSETS (kube-apiserver and etcd, only when it holds
 * both), then the tools cache `<toolsDir>/<folder>-<version>/<name>` that `make tools` fills; the
 * Kubernetes components share the folder `kubernetes-<version>` (KUBE_VERSION, else the pinned release).
 */
export type ToolPaths = Readonly<Record<ToolName, string>>;

/** The repository root (this file is testkit/src/kube/tools.ts, or testkit/dist/kube/tools.js). */
export const repoRoot: string = fileURLToPath(new URL("../../../", import.meta.url));

const toolsSourceDir = join(repoRoot, "hack", "tools");

/** The version pinned for a module in a go.mod (in a require block or a one-line require). */
export function goModVersion(goMod: string, module: string): string | undefined {
  const escaped = module.replaceAll(".", "\\.");
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, "m").exec(goMod);
  return match?.[1];
}

/** KEY=value lines of hack/tools/versions.env (comments and blank lines ignored). */
export function parseVersionsEnv(text: string): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^\s*([A-Z0-9_]+)=(\S*)\s*$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) entries[match[1]] = match[2];
  }
  return entries;
}

const isKubeComponent = (name: ToolName): boolean => (kubeComponents as readonly string[]).includes(name);

/** The cache folder of a tool (without its version). */
export function toolFolder(name: ToolName): string {
  return isKubeComponent(name) ? "kubernetes" : name;
}

/**
 * The version of every tool, read from hack/tools/ (the same files hack/tools.sh reads): the pins, with
 * KUBE_VERSION in place of the pinned Kubernetes release when set. The sandbox image (pause) is
 * versioned by its source.
 */
export function toolVersions(
  sourceDir: string = toolsSourceDir,
  kubeVersion: string | undefined = readKubeTestkitConfig().kubeVersion,
): Readonly<Record<ToolName, string>> {
  const read = (file: string): string => readFileSync(join(sourceDir, file), "utf8");
  const env = parseVersionsEnv(read("versions.env"));
  const kubernetes = kubeVersion ?? goModVersion(read("kubernetes/go.mod"), "k8s.io/kubernetes");
  const versions: Record<ToolName, string | undefined> = {
    ...(Object.fromEntries(kubeComponents.map((name) => [name, kubernetes])) as Record<
      (typeof kubeComponents)[number],
      string | undefined
    >),
    etcd: goModVersion(read("etcd/go.mod"), "go.etcd.io/etcd/server/v3"),
    helm3: env.HELM3_VERSION,
    helm4: env.HELM4_VERSION,
    kubectl: env.KUBECTL_VERSION,
    pause: createHash("sha256")
      .update(readFileSync(join(sourceDir, "pause", "pause.c")))
      .digest("hex")
      .slice(0, 12),
  };
  const missing = toolNames.filter((name) => versions[name] === undefined);
  if (missing.length > 0) {
    throw new KubeTestkitError(
      "APICACHE_ERR_TOOL_VERSIONS",
      `no pinned version for ${missing.join(", ")} in ${sourceDir} (go.mod files and versions.env)`,
    );
  }
  return versions as Record<ToolName, string>;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Resolve every tool's path without checking that it exists (see {@link requireTool}). */
export function resolveToolPaths(
  config: KubeTestkitConfig = readKubeTestkitConfig(),
  versions: Readonly<Record<ToolName, string>> = toolVersions(toolsSourceDir, config.kubeVersion),
): ToolPaths {
  const assets = config.kubebuilderAssets;
  const assetsUsable =
    assets !== undefined &&
    isExecutable(join(assets, "kube-apiserver")) &&
    isExecutable(join(assets, "etcd"));
  const resolve = (name: ToolName): string => {
    const override = config.toolOverrides[name];
    if (override !== undefined) return override;
    if (assetsUsable && (name === "kube-apiserver" || name === "etcd")) return join(assets, name);
    return join(config.toolsDir, `${toolFolder(name)}-${versions[name]}`, name);
  };
  return Object.freeze(Object.fromEntries(toolNames.map((name) => [name, resolve(name)])) as ToolPaths);
}

/** The path of one tool, or an error that says how to get it. */
export function requireTool(name: ToolName, paths: ToolPaths = resolveToolPaths()): string {
  const path = paths[name];
  if (!isExecutable(path)) {
    throw new KubeTestkitError(
      "APICACHE_ERR_TOOL_MISSING",
      `${name} not found at ${path}: run \`make tools\` (builds it into the tools cache; a cold build takes ` +
        `minutes), or set ${toolEnvVar(name)} to a binary` +
        (name === "kube-apiserver" || name === "etcd"
          ? " or KUBEBUILDER_ASSETS to a folder with kube-apiserver and etcd"
          : ""),
    );
  }
  return path;
}
