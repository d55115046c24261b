import { join } from "node:path";
import { etcdArgs } from "../kube/control-plane-args.js";
import type { ClusterLayout } from "./layout.js";
import { configFiles, kubeRelease } from "./node-config.js";
import { type ClusterPki, clusterPkiPaths } from "./pki-files.js";

/**
 * The processes of one test cluster, in start order, with their arguments (pure). `host` processes run
 * on the host (the control plane, next to the API server's address); `node` processes run inside the
 * node's network and mount namespaces.
 */
export type ComponentName =
  | "etcd"
  | "kube-apiserver"
  | "containerd"
  | "kube-controller-manager"
  | "kube-scheduler"
  | "cluster-dns"
  | "kubelet"
  | "kube-proxy";

export interface ComponentSpec {
  readonly name: ComponentName;
  readonly where: "host" | "node";
  /** The binary the process runs (after nsenter, for node processes): its name identifies the pid. */
  readonly command: string;
  readonly args: readonly string[];
}

export interface ComponentInputs {
  readonly layout: ClusterLayout;
  readonly binaries: Readonly<Record<Exclude<ComponentName, "cluster-dns">, string>>;
  /** `node` and the arguments that run the DNS (cluster-dns-main.ts through tsx). */
  readonly dns: { readonly node: string; readonly args: readonly string[] };
  readonly etcdPorts: { readonly etcdClient: number; readonly etcdPeer: number };
  readonly kubeVersion: string;
}

const v = "--v=1";

function apiServerArgs(layout: ClusterLayout, pki: ClusterPki, etcdClient: number): string[] {
  const { network } = layout;
  return [
    `--etcd-servers=http://127.0.0.1:${etcdClient}`,
    `--bind-address=${network.hostIp}`,
    `--advertise-address=${network.hostIp}`,
    `--secure-port=${network.apiServerPort}`,
    `--cert-dir=${layout.paths.pki}`,
    `--tls-cert-file=${pki.apiServerCert}`,
    `--tls-private-key-file=${pki.apiServerKey}`,
    `--client-ca-file=${pki.caCert}`,
    `--kubelet-client-certificate=${pki.apiServerKubeletClientCert}`,
    `--kubelet-client-key=${pki.apiServerKubeletClientKey}`,
    `--kubelet-certificate-authority=${pki.caCert}`,
    "--kubelet-preferred-address-types=InternalIP,Hostname",
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${pki.serviceAccountPub}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    `--service-cluster-ip-range=${network.serviceCidr}`,
    "--authorization-mode=Node,RBAC",
    "--enable-admission-plugins=NodeRestriction",
    // Pod Security Admission (on by default) enforcing `baseline` everywhere: see admissionConfig().
    `--admission-control-config-file=${configFiles(layout).admission}`,
    "--allow-privileged=true",
    v,
  ];
}

export function clusterComponents(inputs: ComponentInputs): ComponentSpec[] {
  const { layout, binaries } = inputs;
  const pki = clusterPkiPaths(layout);
  const files = configFiles(layout);
  kubeRelease(inputs.kubeVersion); // a malformed version fails here, before anything starts
  const kubeconfig = (client: keyof ClusterPki["kubeconfigs"]) => `--kubeconfig=${pki.kubeconfigs[client]}`;
  return [
    {
      name: "etcd",
      where: "host",
      command: binaries.etcd,
      args: etcdArgs(layout.paths.etcdData, inputs.etcdPorts),
    },
    {
      name: "kube-apiserver",
      where: "host",
      command: binaries["kube-apiserver"],
      args: apiServerArgs(layout, pki, inputs.etcdPorts.etcdClient),
    },
    { name: "containerd", where: "node", command: binaries.containerd, args: ["--config", files.containerd] },
    {
      name: "kube-controller-manager",
      where: "host",
      command: binaries["kube-controller-manager"],
      args: [
        kubeconfig("kube-controller-manager"),
        `--service-account-private-key-file=${pki.serviceAccountKey}`,
        `--root-ca-file=${pki.caCert}`,
        "--use-service-account-credentials=true",
        `--cluster-signing-cert-file=${pki.caCert}`,
        `--cluster-signing-key-file=${pki.caKey}`,
        "--secure-port=0",
        "--leader-elect=false",
        `--flex-volume-plugin-dir=${layout.paths.flexVolumeDir}`,
        v,
      ],
    },
    {
      name: "kube-scheduler",
      where: "host",
      command: binaries["kube-scheduler"],
      args: [kubeconfig("kube-scheduler"), "--secure-port=0", "--leader-elect=false", v],
    },
    {
      name: "cluster-dns",
      where: "host",
      command: inputs.dns.node,
      args: [
        ...inputs.dns.args,
        "--kubeconfig",
        pki.kubeconfigs.admin,
        "--listen",
        `${layout.network.hostIp}:53`,
      ],
    },
    {
      name: "kubelet",
      where: "node",
      command: binaries.kubelet,
      args: [
        `--config=${files.kubelet}`,
        kubeconfig("kubelet"),
        `--node-ip=${layout.network.nodeIp}`,
        `--hostname-override=${layout.nodeName}`,
        v,
      ],
    },
    {
      name: "kube-proxy",
      where: "node",
      command: binaries["kube-proxy"],
      args: [`--config=${files.kubeProxy}`, v],
    },
  ];
}

export function pidFile(layout: ClusterLayout, name: ComponentName): string {
  return join(layout.paths.pids, `${name}.pid`);
}

export function logFile(layout: ClusterLayout, name: ComponentName): string {
  return join(layout.paths.logs, `${name}.log`);
}
