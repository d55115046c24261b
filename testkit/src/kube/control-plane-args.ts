import { join } from "node:path";

/** Files of one control plane under its state directory. */
export interface ControlPlaneLayout {
  readonly dir: string;
  readonly pkiDir: string;
  readonly etcdDataDir: string;
  readonly kubeconfigPath: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly servingCert: string;
  readonly servingKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
  readonly etcdLog: string;
  readonly apiServerLog: string;
  readonly etcdPidFile: string;
  readonly apiServerPidFile: string;
}

export function controlPlaneLayout(dir: string): ControlPlaneLayout {
  const pkiDir = join(dir, "pki");
  return {
    dir,
    pkiDir,
    etcdDataDir: join(dir, "etcd-data"),
    kubeconfigPath: join(dir, "kubeconfig"),
    caCert: join(pkiDir, "ca.crt"),
    caKey: join(pkiDir, "ca.key"),
    servingCert: join(pkiDir, "apiserver.crt"),
    servingKey: join(pkiDir, "apiserver.key"),
    adminCert: join(pkiDir, "admin.crt"),
    adminKey: join(pkiDir, "admin.key"),
    serviceAccountKey: join(pkiDir, "sa.key"),
    serviceAccountPub: join(pkiDir, "sa.pub"),
    etcdLog: join(dir, "etcd.log"),
    apiServerLog: join(dir, "kube-apiserver.log"),
    etcdPidFile: join(dir, "etcd.pid"),
    apiServerPidFile: join(dir, "kube-apiserver.pid"),
  };
}

export interface ControlPlanePorts {
  readonly etcdClient: number;
  readonly etcdPeer: number;
  readonly apiServer: number;
}

/** The in-cluster address range for Service IPs; only allocated from, never routed to. */
export const serviceClusterIpRange = "10.0.0.0/24";

/** etcd: single member, loopback only, no fsync (test data is disposable). */
export function etcdArgs(
  dataDir: string,
  ports: Pick<ControlPlanePorts, "etcdClient" | "etcdPeer">,
): string[] {
  const client = `http://127.0.0.1:${ports.etcdClient}`;
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  return [
    "--name=apicache-test",
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=apicache-test=${peer}`,
    "--initial-cluster-state=new",
    "--unsafe-no-fsync=true",
    "--log-level=warn",
  ];
}

/**
 * kube-apiserver: loopback only, client-certificate auth against the test CA, RBAC, service-account
 * keys for token issuing, and no ServiceAccount admission (no controller-manager creates the accounts).
 */
export function apiServerArgs(layout: ControlPlaneLayout, ports: ControlPlanePorts): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${ports.apiServer}`,
    `--cert-dir=${layout.pkiDir}`,
    `--tls-cert-file=${layout.servingCert}`,
    `--tls-private-key-file=${layout.servingKey}`,
    `--client-ca-file=${layout.caCert}`,
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${layout.serviceAccountPub}`,
    `--service-account-signing-key-file=${layout.serviceAccountKey}`,
    `--service-cluster-ip-range=${serviceClusterIpRange}`,
    "--authorization-mode=RBAC",
    "--disable-admission-plugins=ServiceAccount",
    "--allow-privileged=true",
    "--v=1",
  ];
}
