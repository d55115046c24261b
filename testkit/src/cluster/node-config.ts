import { join } from "node:path";
import { stringify } from "yaml";
import type { ClusterLayout } from "./layout.js";
import type { ClusterPki } from "./pki-files.js";

/**
 * The node's configuration files (and the API server's admission configuration), rendered from the
 * layout (pure). Paths inside the node are the
 * defaults (/var/lib/kubelet, /run/containerd, ...): the node's mount namespace binds them to folders
 * under the cluster's state directory, so nothing lands in the host's own /var/lib or /run.
 */

/** containerd's socket inside the node's mount namespace. */
export const containerdSocketInNode = "/run/containerd/containerd.sock";
export const cniBinDir = "/usr/lib/cni";
const clusterDomain = "cluster.local";

/** A Kubernetes release as `{ minor }` (v1.35.4 → 35), for the few settings that differ by release. */
export interface KubeRelease {
  readonly version: string;
  readonly minor: number;
}

export function kubeRelease(version: string): KubeRelease {
  const match = /^v?1\.(\d+)\.\d+/.exec(version);
  if (match?.[1] === undefined) throw new Error(`not a Kubernetes release: "${version}"`);
  return { version: version.startsWith("v") ? version : `v${version}`, minor: Number(match[1]) };
}

/**
 * Where containerd's "opt" plugin keeps its bin/ and lib/ (default /opt/containerd, a folder outside
 * the node's bound /var/lib, /run and /var/log, so it would land on the host): a path inside the node's
 * /var/lib, i.e. under the cluster's state directory.
 */
export const containerdOptDir = "/var/lib/containerd-opt";

/**
 * containerd 1.6 (Debian): CRI with runc and cgroupfs, the locally built sandbox image, CNI from
 * Debian's plugins. `restrict_oom_score_adj`: the machine lacks CAP_SYS_RESOURCE, and runc otherwise
 * fails to lower a container's oom_score_adj. There is no registry to pull from: images are imported.
 */
export function containerdConfig(layout: ClusterLayout, sandboxImage: string): string {
  return `version = 2
[plugins."io.containerd.internal.v1.opt"]
  path = "${containerdOptDir}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${sandboxImage}"
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${cniBinDir}"
    conf_dir = "${layout.paths.cniConfDir}"
`;
}

/** One bridge for every pod, host-local addresses from the pod CIDR, no masquerade (nothing leaves). */
export function cniConfig(layout: ClusterLayout): string {
  const { bridge, podCidr, podGateway } = layout.network;
  return `${JSON.stringify(
    {
      cniVersion: "0.4.0",
      name: "apicache",
      plugins: [
        {
          type: "bridge",
          bridge,
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: "host-local",
            ranges: [[{ subnet: podCidr, gateway: podGateway }]],
            routes: [{ dst: "0.0.0.0/0" }],
          },
        },
        { type: "loopback" },
      ],
    },
    null,
    2,
  )}\n`;
}

/**
 * The kubelet: cgroup v1 through cgroupfs (no systemd here), no resolver of the host's for pods (only
 * the cluster DNS), no image garbage collection (images cannot be pulled back), client certificate
 * authentication and webhook authorization for its API.
 */
export function kubeletConfig(layout: ClusterLayout, pki: ClusterPki, release: KubeRelease): string {
  const config: Record<string, unknown> = {
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: pki.caCert },
    },
    authorization: { mode: "Webhook" },
    address: layout.network.nodeIp,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: "127.0.0.1",
    healthzPort: 10248,
    tlsCertFile: pki.kubeletServingCert,
    tlsPrivateKeyFile: pki.kubeletServingKey,
    cgroupDriver: "cgroupfs",
    cgroupRoot: layout.cgroupRoot,
    failSwapOn: false,
    resolvConf: "",
    clusterDNS: [layout.network.hostIp],
    clusterDomain,
    containerRuntimeEndpoint: `unix://${containerdSocketInNode}`,
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: { "memory.available": "50Mi", "nodefs.available": "1%", "imagefs.available": "1%" },
    volumePluginDir: "/var/lib/kubelet/volume-plugins",
    serializeImagePulls: false,
  };
  // From 1.31 the kubelet refuses cgroup v1 unless told otherwise (KEP-4569); the field is new there.
  if (release.minor >= 31) config.failCgroupV1 = false;
  return stringify(config);
}

/** kube-proxy in nftables mode, NodePorts only on the node's address. */
export function kubeProxyConfig(layout: ClusterLayout, pki: ClusterPki): string {
  return stringify({
    apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
    kind: "KubeProxyConfiguration",
    mode: "nftables",
    clientConnection: { kubeconfig: pki.kubeconfigs["kube-proxy"] },
    clusterCIDR: layout.network.podCidr,
    nodePortAddresses: [`${layout.network.nodeIp}/32`],
    hostnameOverride: layout.nodeName,
    bindAddress: layout.network.nodeIp,
    healthzBindAddress: "127.0.0.1:10256",
    metricsBindAddress: "127.0.0.1:10249",
    // Leave the (global) conntrack table size alone.
    conntrack: { maxPerCore: 0 },
  });
}

/** The nftables table inside the node's namespace that keeps pods off the host's other listeners. */
export const guardTable = "apicache-guard";

/**
 * Pods (and anything else inside the node) may reach the host only at the API server's port and the
 * cluster DNS; everything else towards the host is dropped. There is no route off the machine at all.
 */
export function guardRuleset(layout: ClusterLayout): string {
  const { nodeLink, hostIp, apiServerPort } = layout.network;
  const chain = (name: string, hook: string) => `  chain ${name} {
    type filter hook ${hook} priority 0; policy accept;
    oifname "${nodeLink}" ct state established,related accept
    oifname "${nodeLink}" ip daddr ${hostIp} tcp dport ${apiServerPort} accept
    oifname "${nodeLink}" ip daddr ${hostIp} meta l4proto { tcp, udp } th dport 53 accept
    oifname "${nodeLink}" counter drop
  }`;
  return `table inet ${guardTable} {
${chain("forward", "forward")}
${chain("output", "output")}
}
`;
}

/**
 * The API server's admission configuration: Pod Security Admission enforces `baseline` in every
 * namespace that does not say otherwise (a `pod-security.kubernetes.io/enforce` label), so no pod gets
 * hostNetwork, privileged mode, host paths or added capabilities like NET_ADMIN — with which a pod
 * could delete the node's guard table (in the node's network namespace, which hostNetwork pods share)
 * and reach every host listener. Nothing in the cluster needs an exemption: the node's own daemons are
 * not pods.
 */
export function admissionConfig(): string {
  return stringify({
    apiVersion: "apiserver.config.k8s.io/v1",
    kind: "AdmissionConfiguration",
    plugins: [
      {
        name: "PodSecurity",
        configuration: {
          apiVersion: "pod-security.admission.config.k8s.io/v1",
          kind: "PodSecurityConfiguration",
          defaults: {
            enforce: "baseline",
            "enforce-version": "latest",
            audit: "baseline",
            "audit-version": "latest",
            warn: "baseline",
            "warn-version": "latest",
          },
          exemptions: { usernames: [], runtimeClasses: [], namespaces: [] },
        },
      },
    ],
  });
}

/** Every rendered file of the node, as [path, content]. */
export function clusterComponentsFiles(
  layout: ClusterLayout,
  pki: ClusterPki,
  release: KubeRelease,
  sandboxImage: string,
): [string, string][] {
  const files = configFiles(layout);
  return [
    [files.containerd, containerdConfig(layout, sandboxImage)],
    [files.cni, cniConfig(layout)],
    [files.kubelet, kubeletConfig(layout, pki, release)],
    [files.kubeProxy, kubeProxyConfig(layout, pki)],
    [files.admission, admissionConfig()],
  ];
}

/** Where the rendered files go. */
export function configFiles(layout: ClusterLayout) {
  const dir = layout.paths.config;
  return {
    containerd: join(dir, "containerd.toml"),
    cni: join(layout.paths.cniConfDir, "10-apicache.conflist"),
    kubelet: join(dir, "kubelet.yaml"),
    kubeProxy: join(dir, "kube-proxy.yaml"),
    admission: join(dir, "admission.yaml"),
  } as const;
}
