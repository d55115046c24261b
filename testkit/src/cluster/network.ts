import { must, run } from "./host.js";
import type { ClusterLayout } from "./layout.js";
import { guardRuleset } from "./node-config.js";

/**
 * The node's network: a namespace of its own joined to the host by one veth pair. Inside, the node
 * forwards between its pod bridge and the link (its own ip_forward; the host's stays as it was) and a
 * firewall keeps pods off every host listener but the API server and the cluster DNS. The host routes
 * the pod and Service CIDRs to the node (the API server calls webhooks and kubelets there) and nothing
 * else of 198.18.0.0/15 anywhere (an unreachable route, so no such packet takes the default route).
 */
const guardMetric = "4242";

const netnsPath = (layout: ClusterLayout) => `/run/netns/${layout.network.netns}`;

export function nodeNetnsPath(layout: ClusterLayout): string {
  return netnsPath(layout);
}

function inNode(layout: ClusterLayout, args: readonly string[]): string {
  return must("ip", ["-n", layout.network.netns, ...args]);
}

export function netnsExists(layout: ClusterLayout): boolean {
  return run("ip", ["netns", "list"])
    .stdout.split("\n")
    .some((line) => line.split(" ")[0] === layout.network.netns);
}

function linkExists(name: string): boolean {
  return run("ip", ["link", "show", "dev", name]).code === 0;
}

function guardRouteExists(layout: ClusterLayout): boolean {
  return run("ip", ["route", "show", "type", "unreachable", layout.network.guardRoute]).stdout.trim() !== "";
}

/** A locally administered unicast MAC address for the slot's pod bridge. */
export function bridgeMac(slot: number): string {
  return `02:ac:00:00:00:${slot.toString(16).padStart(2, "0")}`;
}

export function createNodeNetwork(layout: ClusterLayout): void {
  const net = layout.network;
  must("ip", ["netns", "add", net.netns]);
  must("ip", ["link", "add", net.hostLink, "type", "veth", "peer", "name", net.nodeLink, "netns", net.netns]);
  must("ip", ["addr", "add", `${net.hostIp}/30`, "dev", net.hostLink]);
  must("ip", ["link", "set", net.hostLink, "up"]);
  inNode(layout, ["link", "set", "lo", "up"]);
  inNode(layout, ["addr", "add", `${net.nodeIp}/30`, "dev", net.nodeLink]);
  inNode(layout, ["link", "set", net.nodeLink, "up"]);
  // The pod bridge, made here rather than by the CNI plugin on the first pod, for its fixed MAC
  // address: a Linux bridge otherwise takes the lowest MAC of its ports, so it changes as pods come and
  // go, and pods that cached the old gateway MAC lose every routed packet (Services, the API server)
  // until their ARP entry expires, about 30 s later.
  inNode(layout, ["link", "add", net.bridge, "type", "bridge"]);
  inNode(layout, ["link", "set", net.bridge, "address", bridgeMac(layout.slot)]);
  inNode(layout, ["addr", "add", `${net.podGateway}/${net.podCidr.split("/")[1]}`, "dev", net.bridge]);
  inNode(layout, ["link", "set", net.bridge, "up"]);
  // Per-namespace settings: forwarding between the pod bridge and the link, and bridged pod-to-pod
  // traffic through netfilter, so that Service replies between pods on one bridge are un-NATed.
  must("nsenter", [`--net=${netnsPath(layout)}`, "--", "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
  must("nsenter", [
    `--net=${netnsPath(layout)}`,
    "--",
    "sysctl",
    "-q",
    "-w",
    "net.bridge.bridge-nf-call-iptables=1",
  ]);
  must("nsenter", [`--net=${netnsPath(layout)}`, "--", "nft", "-f", "-"], guardRuleset(layout));
  for (const cidr of [net.podCidr, net.serviceCidr]) {
    must("ip", ["route", "add", cidr, "via", net.nodeIp, "dev", net.hostLink]);
  }
  if (!guardRouteExists(layout)) {
    must("ip", ["route", "add", "unreachable", net.guardRoute, "metric", guardMetric]);
  }
}

/** Other test clusters still up on this host (their namespaces), besides this one. */
function otherNodes(layout: ClusterLayout): string[] {
  return run("ip", ["netns", "list"])
    .stdout.split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => /^apicache-node\d+$/.test(name) && name !== layout.network.netns);
}

/**
 * Deleting the namespace deletes the bridge, the node's end of the veth pair (and so the host's end, and
 * the routes through it) and the firewall inside it. Idempotent. Returns whether this was the host's
 * last test cluster (its shared guard route is then gone too).
 */
export function removeNodeNetwork(layout: ClusterLayout): boolean {
  const net = layout.network;
  if (netnsExists(layout)) must("ip", ["netns", "delete", net.netns]);
  // The namespace itself goes asynchronously, taking the veth pair with it; the link (and its routes)
  // go now, unless the namespace was quicker.
  if (linkExists(net.hostLink)) {
    const deleted = run("ip", ["link", "delete", net.hostLink]);
    if (deleted.code !== 0 && linkExists(net.hostLink)) must("ip", ["link", "delete", net.hostLink]);
  }
  const last = otherNodes(layout).length === 0;
  if (last && guardRouteExists(layout)) {
    must("ip", ["route", "delete", "unreachable", net.guardRoute, "metric", guardMetric]);
  }
  return last;
}
