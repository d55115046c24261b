import { describe, expect, it } from "vitest";
import { parseKubeVersionOutput, versionSkewProblems } from "./kube-version.js";

describe("a Kubernetes binary's --version", () => {
  it.each([
    ["Kubernetes v1.35.4\n", "v1.35.4"],
    ["Kubernetes v1.31.14-dirty", "v1.31.14"],
    ["Kubernetes v1.36.0-alpha.1+abc", "v1.36.0"],
  ])("reads %j as %s", (output, version) => {
    expect(parseKubeVersionOutput(output)).toBe(version);
  });

  it.each(["Kubernetes v0.0.0-master+$Format:%H$", "etcd Version: 3.6.16", "", "v1.35.4"])(
    "finds no release in %j",
    (output) => {
      expect(parseKubeVersionOutput(output)).toBeUndefined();
    },
  );
});

describe("the version skew of the cluster's components", () => {
  const all = (version: string) => ({
    "kube-apiserver": version,
    "kube-controller-manager": version,
    "kube-scheduler": version,
    kubelet: version,
    "kube-proxy": version,
  });

  it("accepts one release everywhere", () => {
    expect(versionSkewProblems(all("v1.35.4"))).toEqual([]);
  });

  it("accepts an API server (e.g. from KUBEBUILDER_ASSETS) newer than the node by up to three minors", () => {
    expect(versionSkewProblems({ ...all("v1.32.0"), "kube-apiserver": "v1.35.4" }).join()).not.toMatch(
      /kubelet|kube-proxy/,
    );
  });

  it("refuses components newer than the API server", () => {
    expect(versionSkewProblems({ ...all("v1.35.4"), "kube-apiserver": "v1.34.2" })).toEqual([
      "kube-controller-manager v1.35.4 is newer than kube-apiserver v1.34.2",
      "kube-scheduler v1.35.4 is newer than kube-apiserver v1.34.2",
      "kubelet v1.35.4 is newer than kube-apiserver v1.34.2",
      "kube-proxy v1.35.4 is newer than kube-apiserver v1.34.2",
    ]);
  });

  it("refuses a controller manager two minors behind and a kubelet four behind", () => {
    expect(
      versionSkewProblems({ ...all("v1.35.4"), "kube-controller-manager": "v1.33.0", kubelet: "v1.31.14" }),
    ).toEqual([
      "kube-controller-manager v1.33.0 is more than 1 minor release(s) older than kube-apiserver v1.35.4",
      "kubelet v1.31.14 is more than 3 minor release(s) older than kube-apiserver v1.35.4",
    ]);
  });
});
