import { describe, expect, it } from "vitest";
import { apiServerArgs, controlPlaneLayout, etcdArgs } from "./control-plane-args.js";

const layout = controlPlaneLayout("/state");
const ports = { etcdClient: 2001, etcdPeer: 2002, apiServer: 6443 };

describe("control plane arguments", () => {
  it("keep etcd on loopback, peer port included", () => {
    const args = etcdArgs(layout.etcdDataDir, ports);
    expect(args).toContain("--listen-client-urls=http://127.0.0.1:2001");
    expect(args).toContain("--listen-peer-urls=http://127.0.0.1:2002");
    expect(args.filter((a) => a.includes("://")).every((a) => a.includes("127.0.0.1"))).toBe(true);
  });

  it("serve kube-apiserver on loopback with client certificates, RBAC and service-account keys", () => {
    expect(apiServerArgs(layout, ports)).toEqual(
      expect.arrayContaining([
        "--bind-address=127.0.0.1",
        "--secure-port=6443",
        "--etcd-servers=http://127.0.0.1:2001",
        "--client-ca-file=/state/pki/ca.crt",
        "--authorization-mode=RBAC",
        "--service-account-signing-key-file=/state/pki/sa.key",
        "--disable-admission-plugins=ServiceAccount",
      ]),
    );
  });
});
