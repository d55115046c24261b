import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterKubeconfigPath } from "../../src/cluster/cluster-context.js";
import { tierClusterDir, tierClusterSlot } from "../../src/cluster/global-setup.js";
import { run } from "../../src/cluster/host.js";
import { kubectl, runTool } from "../../src/cluster/kubectl.js";
import { clusterLayout } from "../../src/cluster/layout.js";
import { nodeNetnsPath } from "../../src/cluster/network.js";
import { type Probe, startProbe } from "../../src/cluster/probe.js";
import { requireTool } from "../../src/kube/tools.js";

// Nothing the cluster does reaches beyond this machine, and pods reach only what the cluster needs on
// the host side: the API server's port and the cluster DNS. Checked from a pod, as a workload sees it.
const layout = clusterLayout(tierClusterDir, tierClusterSlot);
const namespace = "apicache-isolation";
let probe: Probe;
let hostListener: Server;
let hostPort = 0;
let connectionsFromPods = 0;

beforeAll(async () => {
  const k = kubectl(clusterKubeconfigPath());
  await k(["create", "namespace", namespace]).catch(() => undefined);
  probe = await startProbe(clusterKubeconfigPath(), namespace, "apicache/demo-api:dev");
  // A host listener on every address, as a developer's database or dev server would be.
  hostListener = createServer((socket) => {
    connectionsFromPods += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => hostListener.listen(0, "0.0.0.0", resolve));
  hostPort = (hostListener.address() as { port: number }).port;
});

afterAll(async () => {
  await probe?.close();
  await new Promise((resolve) => hostListener?.close(resolve));
  await kubectl(clusterKubeconfigPath())(["delete", "namespace", namespace, "--wait=false"]).catch(
    () => undefined,
  );
});

describe("the test cluster's isolation", () => {
  it("lets pods reach the API server on the host", async () => {
    const res = await probe.request({
      url: `https://${layout.network.hostIp}:${layout.network.apiServerPort}/`,
      timeoutMs: 5_000,
    });
    // The TLS handshake happened (the probe does not trust the cluster's CA): the port is open to pods.
    expect(res.status).toBe(0);
    expect(res.error).toMatch(/CERT|certificate|SELF_SIGNED|UNABLE_TO_VERIFY/i);
  });

  it("keeps pods off every other listener of the host", async () => {
    const res = await probe.request({
      url: `http://${layout.network.hostIp}:${hostPort}/`,
      timeoutMs: 3_000,
    });
    expect(res.status).toBe(0);
    expect(connectionsFromPods).toBe(0);
  });

  it("has no route off the machine: outside addresses are unreachable, outside names unresolved", async () => {
    // The node has no route there (checked below), so whatever the pod sends goes nowhere.
    for (const url of ["http://1.1.1.1/", "http://192.0.2.1/", "http://203.0.113.7/"]) {
      const res = await probe.request({ url, timeoutMs: 2_000 });
      expect(res.status).toBe(0);
      expect(res.error).toMatch(/ENETUNREACH|EHOSTUNREACH|timeout/);
    }
    const named = await probe.request({ url: "http://example.com/", timeoutMs: 5_000 });
    expect(named.status).toBe(0);
    expect(named.error).toMatch(/ENOTFOUND|EAI_AGAIN|ESERVFAIL|EREFUSED/);
  });

  it("resolves cluster names through the cluster DNS", async () => {
    const res = await probe.request({
      url: "https://kubernetes.default.svc.cluster.local/",
      timeoutMs: 5_000,
    });
    // Resolved to the Service IP and connected through kube-proxy: TLS got as far as the certificate.
    expect(res.error).toMatch(/CERT|certificate|SELF_SIGNED|UNABLE_TO_VERIFY/i);
  });

  it.each([namespace, "default"])(
    "refuses a privileged hostNetwork pod in namespace %s (Pod Security baseline, enforced everywhere)",
    async (ns) => {
      // Such a pod shares the node's network namespace and could delete the guard table above.
      const pod = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "unguard", namespace: ns },
        spec: {
          hostNetwork: true,
          restartPolicy: "Never",
          containers: [
            {
              name: "c",
              image: "apicache/demo-api:dev",
              command: ["nft", "delete", "table", "inet", "apicache-guard"],
              securityContext: { privileged: true, capabilities: { add: ["NET_ADMIN"] } },
            },
          ],
        },
      };
      const created = await runTool(
        requireTool("kubectl"),
        ["--kubeconfig", clusterKubeconfigPath(), "create", "-f", "-"],
        { input: JSON.stringify(pod) },
      );
      expect(created.code).not.toBe(0);
      expect(created.stderr).toMatch(
        /violates PodSecurity "baseline:latest": .*host namespaces \(hostNetwork=true\)/,
      );
      expect(created.stderr).toMatch(
        /privileged \(container "c" must not set securityContext.privileged=true\)/,
      );
      expect(created.stderr).toMatch(/non-default capabilities \(container "c" must not include "NET_ADMIN"/);
      const tables = run("nsenter", [`--net=${nodeNetnsPath(layout)}`, "--", "nft", "list", "tables"]);
      expect(tables.stdout).toContain("inet apicache-guard");
    },
  );

  it("leaves the host's forwarding off and gives the node no default route", () => {
    expect(run("sysctl", ["-n", "net.ipv4.ip_forward"]).stdout.trim()).toBe("0");
    expect(run("ip", ["-n", layout.network.netns, "route", "show", "default"]).stdout.trim()).toBe("");
    expect(run("ip", ["-n", layout.network.netns, "route", "get", "1.1.1.1"]).code).not.toBe(0);
  });
});
