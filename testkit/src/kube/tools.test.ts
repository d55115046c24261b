import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readKubeTestkitConfig } from "./config.js";
import { goModVersion, parseVersionsEnv, requireTool, resolveToolPaths, toolVersions } from "./tools.js";

const versions = {
  "kube-apiserver": "v1.35.4",
  "kube-controller-manager": "v1.35.4",
  "kube-scheduler": "v1.35.4",
  kubelet: "v1.35.4",
  "kube-proxy": "v1.35.4",
  etcd: "v3.6.16",
  helm3: "v3.18.0",
  helm4: "v4.1.4",
  kubectl: "v1.35.2",
  pause: "cfb5c191c877",
} as const;

function fakeBinary(dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, "#!/bin/sh\n");
  chmodSync(path, 0o755);
  return path;
}

describe("tool versions", () => {
  it("reads a version from a require block and from a one-line require", () => {
    expect(goModVersion("require (\n\tk8s.io/kubernetes v1.35.4\n)\n", "k8s.io/kubernetes")).toBe("v1.35.4");
    expect(goModVersion("require go.etcd.io/etcd/server/v3 v3.6.16\n", "go.etcd.io/etcd/server/v3")).toBe(
      "v3.6.16",
    );
    expect(goModVersion("require k8s.io/kubernetesx v1\n", "k8s.io/kubernetes")).toBeUndefined();
  });

  it("parses KEY=value lines and skips comments", () => {
    expect(parseVersionsEnv("# c\nHELM3_VERSION=v3.18.0\n\nX=@a/b@1\n")).toEqual({
      HELM3_VERSION: "v3.18.0",
      X: "@a/b@1",
    });
  });

  it("finds a pinned version for every tool in hack/tools/", () => {
    const { pause, ...pinned } = toolVersions(undefined, undefined);
    expect(Object.values(pinned).every((v) => /^v\d+\.\d+\.\d+/.test(v))).toBe(true);
    expect(pause).toMatch(/^[0-9a-f]{12}$/);
  });

  it("takes KUBE_VERSION for every Kubernetes component, and only for them", () => {
    const overridden = toolVersions(undefined, "v1.31.4");
    expect([overridden["kube-apiserver"], overridden.kubelet, overridden["kube-proxy"]]).toEqual([
      "v1.31.4",
      "v1.31.4",
      "v1.31.4",
    ]);
    expect(overridden.etcd).toBe(toolVersions(undefined, undefined).etcd);
  });

  it("rejects a KUBE_VERSION that is not a release, and adds the v", () => {
    expect(() => readKubeTestkitConfig({ KUBE_VERSION: "1.31" })).toThrow(
      /KUBE_VERSION must be a Kubernetes release/,
    );
    expect(readKubeTestkitConfig({ KUBE_VERSION: "1.31.4" }).kubeVersion).toBe("v1.31.4");
  });
});

describe("tool paths", () => {
  describe("with no overrides", () => {
    it("points into the tools cache as <dir>/<folder>-<version>/<name>, one folder for Kubernetes", () => {
      const config = readKubeTestkitConfig({ APICACHE_TOOLS_DIR: "/cache/tools" });
      expect(resolveToolPaths(config, versions)).toEqual({
        "kube-apiserver": "/cache/tools/kubernetes-v1.35.4/kube-apiserver",
        "kube-controller-manager": "/cache/tools/kubernetes-v1.35.4/kube-controller-manager",
        "kube-scheduler": "/cache/tools/kubernetes-v1.35.4/kube-scheduler",
        kubelet: "/cache/tools/kubernetes-v1.35.4/kubelet",
        "kube-proxy": "/cache/tools/kubernetes-v1.35.4/kube-proxy",
        etcd: "/cache/tools/etcd-v3.6.16/etcd",
        helm3: "/cache/tools/helm3-v3.18.0/helm3",
        helm4: "/cache/tools/helm4-v4.1.4/helm4",
        kubectl: "/cache/tools/kubectl-v1.35.2/kubectl",
        pause: "/cache/tools/pause-cfb5c191c877/pause",
      });
    });

    it("defaults the cache to $XDG_CACHE_HOME/apicache/tools, then ~/.cache", () => {
      expect(readKubeTestkitConfig({ XDG_CACHE_HOME: "/xdg" }).toolsDir).toBe("/xdg/apicache/tools");
      expect(readKubeTestkitConfig({ HOME: "/home/u" }).toolsDir).toBe("/home/u/.cache/apicache/tools");
    });
  });

  describe("when KUBEBUILDER_ASSETS holds kube-apiserver and etcd", () => {
    it("takes both from there and the rest from the cache", () => {
      const assets = mkdtempSync(join(tmpdir(), "assets-"));
      fakeBinary(assets, "kube-apiserver");
      fakeBinary(assets, "etcd");
      const config = readKubeTestkitConfig({ APICACHE_TOOLS_DIR: "/c", KUBEBUILDER_ASSETS: assets });
      const paths = resolveToolPaths(config, versions);
      expect(paths["kube-apiserver"]).toBe(join(assets, "kube-apiserver"));
      expect(paths.etcd).toBe(join(assets, "etcd"));
      expect(paths.kubectl).toBe("/c/kubectl-v1.35.2/kubectl");
    });
  });

  describe("when KUBEBUILDER_ASSETS lacks etcd", () => {
    it("ignores it", () => {
      const assets = mkdtempSync(join(tmpdir(), "assets-"));
      fakeBinary(assets, "kube-apiserver");
      const config = readKubeTestkitConfig({ APICACHE_TOOLS_DIR: "/c", KUBEBUILDER_ASSETS: assets });
      expect(resolveToolPaths(config, versions)["kube-apiserver"]).toBe(
        "/c/kubernetes-v1.35.4/kube-apiserver",
      );
    });
  });

  describe("when APICACHE_<TOOL> is set", () => {
    it("wins over KUBEBUILDER_ASSETS and the cache", () => {
      const config = readKubeTestkitConfig({ APICACHE_ETCD: "/opt/etcd", APICACHE_HELM4: "/opt/helm" });
      const paths = resolveToolPaths(config, versions);
      expect([paths.etcd, paths.helm4]).toEqual(["/opt/etcd", "/opt/helm"]);
    });
  });

  it("rejects relative paths in the environment, naming each", () => {
    expect(() => readKubeTestkitConfig({ APICACHE_TOOLS_DIR: "rel", KUBEBUILDER_ASSETS: "x" })).toThrow(
      /APICACHE_TOOLS_DIR must be an absolute path[\s\S]*KUBEBUILDER_ASSETS must be an absolute path/,
    );
  });

  describe("when a tool is missing", () => {
    it("says to run make tools", () => {
      const paths = resolveToolPaths(readKubeTestkitConfig({ APICACHE_TOOLS_DIR: "/nonexistent" }), versions);
      expect(() => requireTool("etcd", paths)).toThrow(
        /APICACHE_ERR_TOOL_MISSING: etcd not found .*run `make tools`/,
      );
    });
  });
});
