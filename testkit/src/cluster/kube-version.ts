import { spawnSync } from "node:child_process";
import { kubeComponents } from "../kube/config.js";
import { KubeTestkitError } from "../kube/errors.js";

/**
 * The Kubernetes release of each component, as its binary says (`kube-apiserver --version` →
 * "Kubernetes v1.35.4"), never guessed from a path: a KUBEBUILDER_ASSETS folder (setup-envtest's
 * `k8s/1.35.4-linux-amd64`) or an APICACHE_KUBE_APISERVER override names no release, and the API
 * server may come from there while the node's components come from the tools cache. The mix must
 * respect Kubernetes' version skew policy, checked here before anything is written or started.
 */
export type KubeBinary = (typeof kubeComponents)[number];

/** "Kubernetes v1.35.4" (a build's suffix, "-dirty", "+abc", is dropped) → "v1.35.4"; else undefined. */
export function parseKubeVersionOutput(output: string): string | undefined {
  return /^Kubernetes (v1\.\d+\.\d+)/m.exec(output)?.[1];
}

const minor = (version: string): number => Number(version.split(".")[1]);

/**
 * Problems with the mix (pure): no component newer than the API server; the controller manager and the
 * scheduler at most one minor release older, the kubelet and kube-proxy at most three
 * (kubernetes.io/releases/version-skew-policy).
 */
export function versionSkewProblems(versions: Readonly<Record<KubeBinary, string>>): string[] {
  const api = minor(versions["kube-apiserver"]);
  const oldest: Record<Exclude<KubeBinary, "kube-apiserver">, number> = {
    "kube-controller-manager": 1,
    "kube-scheduler": 1,
    kubelet: 3,
    "kube-proxy": 3,
  };
  return (Object.keys(oldest) as (keyof typeof oldest)[]).flatMap((name) => {
    const own = minor(versions[name]);
    if (own > api)
      return [`${name} ${versions[name]} is newer than kube-apiserver ${versions["kube-apiserver"]}`];
    if (api - own > oldest[name])
      return [
        `${name} ${versions[name]} is more than ${oldest[name]} minor release(s) older than kube-apiserver ${versions["kube-apiserver"]}`,
      ];
    return [];
  });
}

function askVersion(name: KubeBinary, path: string): string {
  const result = spawnSync(path, ["--version"], { encoding: "utf8", timeout: 30_000 });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim();
  const version = result.status === 0 ? parseKubeVersionOutput(output) : undefined;
  if (version === undefined) {
    throw new KubeTestkitError(
      "APICACHE_ERR_TOOL_VERSIONS",
      `\`${path} --version\` did not name a Kubernetes release (it said "${output.split("\n")[0] ?? ""}"` +
        `${result.error === undefined ? "" : `, ${result.error.message}`}): the cluster needs released ${name} binaries ` +
        "(`make tools`, or KUBEBUILDER_ASSETS / APICACHE_KUBE_APISERVER pointing at a release)",
    );
  }
  return version;
}

/** Every component's release, checked for skew; throws (naming each binary) when they cannot run together. */
export function kubeComponentVersions(
  paths: Readonly<Record<KubeBinary, string>>,
): Readonly<Record<KubeBinary, string>> {
  const versions = Object.fromEntries(
    kubeComponents.map((name) => [name, askVersion(name, paths[name])]),
  ) as Record<KubeBinary, string>;
  const problems = versionSkewProblems(versions);
  if (problems.length > 0) {
    throw new KubeTestkitError(
      "APICACHE_ERR_TOOL_VERSIONS",
      `these Kubernetes components cannot run together: ${problems.join("; ")} ` +
        `(${kubeComponents.map((name) => `${name}: ${paths[name]}`).join(", ")}); ` +
        "build the node's components for a fitting release (KUBE_VERSION=<the API server's release> make tools), " +
        "or point KUBEBUILDER_ASSETS / APICACHE_KUBE_APISERVER at an API server of the tools' release",
    );
  }
  return versions;
}
