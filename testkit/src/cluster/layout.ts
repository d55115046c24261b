import { join } from "node:path";

/**
 * Everything one single-node test cluster is made of — names, addresses and paths — derived from its
 * state directory and a slot number, so that several clusters (a developer's `make cluster-up` and the
 * test tier's) can run side by side. Every address comes from 198.18.0.0/15 (RFC 2544's benchmarking
 * range, never a real network's). Slot 0 is the one `make cluster-up` uses:
 *
 *   host ── veth acn0-host 198.18.0.1/30 ══ acn0-node 198.18.0.2/30 ── netns apicache-node0
 *           kube-apiserver :6443, cluster DNS :53                        kubelet, containerd, kube-proxy
 *                                                                        bridge acbr0 198.18.128.1/24 ── pods
 *   Services 198.18.200.0/24 (kube-proxy, nftables)
 */
export interface ClusterLayout {
  readonly slot: number;
  readonly dir: string;
  readonly nodeName: string;
  readonly network: NodeNetwork;
  readonly paths: ClusterPaths;
  /** The cgroup (in every v1 hierarchy) the kubelet puts every pod under. */
  readonly cgroupRoot: string;
}

export interface NodeNetwork {
  /** `ip netns` name of the node's network namespace. */
  readonly netns: string;
  readonly hostLink: string;
  readonly nodeLink: string;
  readonly bridge: string;
  /** The host's end of the veth pair: the API server and the cluster DNS listen here. */
  readonly hostIp: string;
  /** The node's address (kubelet, NodePorts). */
  readonly nodeIp: string;
  /** host/node link prefix: `${linkNet}/30`. */
  readonly linkNet: string;
  readonly podCidr: string;
  readonly podGateway: string;
  readonly serviceCidr: string;
  /** The first Service IP: the `kubernetes` Service, in the API server's certificate. */
  readonly kubernetesServiceIp: string;
  readonly apiServerPort: number;
  /** Guards the rest of the benchmarking range on the host: nothing in it leaves by the default route. */
  readonly guardRoute: string;
}

export interface ClusterPaths {
  readonly pki: string;
  readonly kubeconfig: string;
  readonly etcdData: string;
  readonly logs: string;
  readonly pids: string;
  /** Rendered configuration files (containerd, CNI, kubelet, kube-proxy). */
  readonly config: string;
  readonly cniConfDir: string;
  /** The node's private view of the host filesystem: bound over /var/lib, /run and /var/log inside it. */
  readonly nodeRoot: string;
  /** Holds the bind mount that keeps the node's mount namespace alive (`<dir>/ns/mnt`). */
  readonly mountNsDir: string;
  readonly mountNs: string;
  /**
   * The controller manager's FlexVolume plugin folder (it runs on the host and would otherwise create
   * /usr/libexec/kubernetes/kubelet-plugins/volume/exec there): removed with the node.
   */
  readonly flexVolumeDir: string;
  /** containerd's socket as the host sees it (inside the node it is /run/containerd/containerd.sock). */
  readonly containerdSocket: string;
}

export const maxSlot = 55;

const linkAddress = (host: number): string => `198.18.0.${host}`;

function nodeNetwork(slot: number): NodeNetwork {
  const link = slot * 4; // 198.18.0.<4·slot>/30
  return {
    netns: `apicache-node${slot}`,
    hostLink: `acn${slot}-host`,
    nodeLink: `acn${slot}-node`,
    bridge: `acbr${slot}`,
    hostIp: linkAddress(link + 1),
    nodeIp: linkAddress(link + 2),
    linkNet: linkAddress(link),
    podCidr: `198.18.${128 + slot}.0/24`,
    podGateway: `198.18.${128 + slot}.1`,
    serviceCidr: `198.18.${200 + slot}.0/24`,
    kubernetesServiceIp: `198.18.${200 + slot}.1`,
    apiServerPort: 6443,
    guardRoute: "198.18.0.0/15",
  };
}

export function clusterLayout(dir: string, slot = 0): ClusterLayout {
  if (!Number.isInteger(slot) || slot < 0 || slot > maxSlot) {
    throw new RangeError(`cluster slot must be an integer from 0 to ${maxSlot}, got ${slot}`);
  }
  const nodeRoot = join(dir, "node");
  const mountNsDir = join(dir, "ns");
  return {
    slot,
    dir,
    nodeName: "apicache-node",
    network: nodeNetwork(slot),
    cgroupRoot: `/apicache-node${slot}`,
    paths: {
      pki: join(dir, "pki"),
      kubeconfig: join(dir, "kubeconfig"),
      etcdData: join(dir, "etcd-data"),
      logs: join(dir, "logs"),
      pids: join(dir, "pids"),
      config: join(dir, "config"),
      cniConfDir: join(dir, "config", "cni"),
      nodeRoot,
      mountNsDir,
      mountNs: join(mountNsDir, "mnt"),
      flexVolumeDir: join(nodeRoot, "flexvolume"),
      containerdSocket: join(nodeRoot, "run", "containerd", "containerd.sock"),
    },
  };
}

/** The host directories bound, inside the node's mount namespace, to folders under `nodeRoot`. */
export const nodeBindMounts = ["/var/lib", "/run", "/var/log"] as const;

export function nodeBindSource(layout: ClusterLayout, target: (typeof nodeBindMounts)[number]): string {
  return join(layout.paths.nodeRoot, target.slice(1).replaceAll("/", "-"));
}
