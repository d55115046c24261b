import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { KubeTestkitError } from "./errors.js";

/**
 * Everything the Kubernetes test kit reads from the environment, read and checked here only.
 * The same variables drive hack/tools.sh, so the shell and TypeScript sides find the same binaries.
 */
export interface KubeTestkitConfig {
  /** Root of the per-user tools cache (APICACHE_TOOLS_DIR, else $XDG_CACHE_HOME/apicache/tools). */
  readonly toolsDir: string;
  /** KUBEBUILDER_ASSETS: a folder with kube-apiserver and etcd that replaces the built ones. */
  readonly kubebuilderAssets: string | undefined;
  /** Explicit binary paths (APICACHE_KUBE_APISERVER, APICACHE_ETCD, …), winning over everything. */
  readonly toolOverrides: Readonly<Partial<Record<ToolName, string>>>;
  /** APICACHE_E2E_KUBECONFIG: run the e2e tier against this running cluster instead of starting one. */
  readonly e2eKubeconfig: string | undefined;
  /** KUBE_VERSION: a Kubernetes release (v1.31.4) to run instead of the pinned one (hack/tools.sh builds it). */
  readonly kubeVersion: string | undefined;
  /** Where `make images` (hack/images.sh) leaves image archives: APICACHE_IMAGES_DIR, else the cache. */
  readonly imagesDir: string;
  /** APICACHE_CLUSTER_KUBECONFIG: run the cluster tier against this running cluster instead of starting one. */
  readonly clusterKubeconfig: string | undefined;
}

/** The Kubernetes components: one binary (hack/tools/kubernetes) in one cache folder, a symlink each. */
export const kubeComponents = [
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kubelet",
  "kube-proxy",
] as const;
export const toolNames = [...kubeComponents, "etcd", "helm3", "helm4", "kubectl", "pause"] as const;
export type ToolName = (typeof toolNames)[number];

/** APICACHE_KUBE_APISERVER for kube-apiserver, and so on: the names `hack/tools.sh env` prints. */
export function toolEnvVar(name: ToolName): string {
  return `APICACHE_${name.toUpperCase().replaceAll("-", "_")}`;
}

type Env = Readonly<Record<string, string | undefined>>;

export function readKubeTestkitConfig(env: Env = process.env): Readonly<KubeTestkitConfig> {
  const problems: string[] = [];
  const nonEmpty = (key: string): string | undefined => {
    const value = env[key];
    return value === undefined || value === "" ? undefined : value;
  };
  const absolute = (key: string): string | undefined => {
    const value = nonEmpty(key);
    if (value !== undefined && !isAbsolute(value))
      problems.push(`${key} must be an absolute path, got "${value}"`);
    return value;
  };
  const cacheHome = absolute("XDG_CACHE_HOME") ?? join(nonEmpty("HOME") ?? homedir(), ".cache");
  const toolOverrides: Partial<Record<ToolName, string>> = {};
  for (const name of toolNames) {
    const value = absolute(toolEnvVar(name));
    if (value !== undefined) toolOverrides[name] = value;
  }
  const kubeVersion = nonEmpty("KUBE_VERSION");
  if (kubeVersion !== undefined && !/^v?1\.\d+\.\d+$/.test(kubeVersion)) {
    problems.push(`KUBE_VERSION must be a Kubernetes release such as v1.31.4, got "${kubeVersion}"`);
  }
  const config: KubeTestkitConfig = {
    toolsDir: absolute("APICACHE_TOOLS_DIR") ?? join(cacheHome, "apicache", "tools"),
    kubebuilderAssets: absolute("KUBEBUILDER_ASSETS"),
    toolOverrides,
    e2eKubeconfig: nonEmpty("APICACHE_E2E_KUBECONFIG"),
    kubeVersion: kubeVersion === undefined ? undefined : `v${kubeVersion.replace(/^v/, "")}`,
    imagesDir: absolute("APICACHE_IMAGES_DIR") ?? join(cacheHome, "apicache", "images"),
    clusterKubeconfig: nonEmpty("APICACHE_CLUSTER_KUBECONFIG"),
  };
  if (problems.length > 0) {
    throw new KubeTestkitError("APICACHE_ERR_CONFIG", `invalid environment:\n  ${problems.join("\n  ")}`);
  }
  return Object.freeze(config);
}
