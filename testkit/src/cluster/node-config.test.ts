import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { clusterComponents } from "./components.js";
import { clusterLayout } from "./layout.js";
import { admissionConfig, containerdConfig } from "./node-config.js";

const layout = clusterLayout("/tmp/clusters/a", 5);

describe("the node's configuration", () => {
  it("keeps containerd's opt plugin inside the node's /var/lib, not in the host's /opt/containerd", () => {
    expect(containerdConfig(layout, "docker.io/apicache/pause:x")).toContain(
      '[plugins."io.containerd.internal.v1.opt"]\n  path = "/var/lib/containerd-opt"',
    );
  });

  it("has Pod Security Admission enforce baseline in every namespace, with no exemption", () => {
    const plugin = parse(admissionConfig()).plugins[0];
    expect(plugin.name).toBe("PodSecurity");
    expect(plugin.configuration.kind).toBe("PodSecurityConfiguration");
    expect(plugin.configuration.defaults).toMatchObject({ enforce: "baseline", "enforce-version": "latest" });
    expect(plugin.configuration.exemptions).toEqual({ usernames: [], runtimeClasses: [], namespaces: [] });
  });
});

describe("the cluster's components", () => {
  const components = clusterComponents({
    layout,
    binaries: {
      etcd: "etcd",
      "kube-apiserver": "kube-apiserver",
      "kube-controller-manager": "kube-controller-manager",
      "kube-scheduler": "kube-scheduler",
      kubelet: "kubelet",
      "kube-proxy": "kube-proxy",
      containerd: "containerd",
    },
    dns: { node: "node", args: [] },
    etcdPorts: { etcdClient: 1, etcdPeer: 2 },
    kubeVersion: "v1.35.4",
  });
  const args = (name: string) => components.find((c) => c.name === name)?.args ?? [];

  it("gives the API server the admission configuration", () => {
    expect(args("kube-apiserver")).toContain(
      "--admission-control-config-file=/tmp/clusters/a/config/admission.yaml",
    );
  });

  it("points the controller manager's FlexVolume prober into the node's folder, not /usr/libexec/kubernetes", () => {
    expect(args("kube-controller-manager")).toContain(
      "--flex-volume-plugin-dir=/tmp/clusters/a/node/flexvolume",
    );
  });
});
