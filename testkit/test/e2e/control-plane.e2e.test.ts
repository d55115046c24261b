import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { AuthorizationV1Api } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { createTestNamespace, type KubeClients } from "../../src/kube/client.js";
import { toolEnvVar, toolNames } from "../../src/kube/config.js";
import { e2eClients, e2eKubeconfigPath } from "../../src/kube/e2e-context.js";
import { repoRoot, requireTool, resolveToolPaths } from "../../src/kube/tools.js";

describe("the e2e control plane", () => {
  let clients: KubeClients;
  let namespace: string;

  beforeAll(async () => {
    clients = e2eClients();
    namespace = await createTestNamespace(clients, "control-plane");
  });

  it("answers kubectl get --raw /readyz with ok", () => {
    const kubectl = requireTool("kubectl");
    const out = execFileSync(kubectl, ["--kubeconfig", e2eKubeconfigPath(), "get", "--raw", "/readyz"], {
      encoding: "utf8",
    });
    expect(out.trim()).toBe("ok");
  });

  describe("when a Pod is created", () => {
    it("stores it and leaves it Pending (no scheduler, no kubelet)", async () => {
      await clients.core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name: "pending" },
          spec: { containers: [{ name: "app", image: "example.invalid/app:1" }] },
        },
      });
      const pod = await clients.core.readNamespacedPod({ namespace, name: "pending" });
      expect(pod.status?.phase).toBe("Pending");
      expect(pod.spec?.nodeName).toBeUndefined();
    });
  });

  describe("with RBAC authorization", () => {
    const canListPods = async (user: string, groups: string[]) => {
      const review = await clients.kubeConfig.makeApiClient(AuthorizationV1Api).createSubjectAccessReview({
        body: { spec: { user, groups, resourceAttributes: { namespace, verb: "list", resource: "pods" } } },
      });
      return review.status?.allowed;
    };

    it("denies a user without a role binding", async () => {
      expect(await canListPods("nobody", ["system:authenticated"])).toBe(false);
    });

    it("allows the system:masters group the admin certificate carries", async () => {
      expect(await canListPods("apicache-test-admin", ["system:masters"])).toBe(true);
    });
  });

  it("resolves the same tool paths as hack/tools.sh env", () => {
    const printed = execFileSync("bash", [join(repoRoot, "hack", "tools.sh"), "env"], { encoding: "utf8" });
    const fromShell = Object.fromEntries(
      [...printed.matchAll(/(APICACHE_[A-Z0-9_]+)=(\S+)/g)].map((match) => [match[1], match[2]]),
    );
    const paths = resolveToolPaths();
    expect(fromShell).toEqual(Object.fromEntries(toolNames.map((name) => [toolEnvVar(name), paths[name]])));
    expect(Object.keys(fromShell)).toHaveLength(toolNames.length);
  });
});
