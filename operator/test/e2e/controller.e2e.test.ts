import { readFileSync } from "node:fs";
import {
  ApiException,
  type CoreV1Event,
  RbacAuthorizationV1Api,
  type V1ConfigMap,
  type V1Pod,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createTestNamespace, type KubeClients } from "../../../testkit/src/kube/client.js";
import { e2eClients, e2eKubeconfigPath } from "../../../testkit/src/kube/e2e-context.js";
import { waitFor } from "../../../testkit/src/wait.js";
import {
  appPod,
  CP,
  condition,
  createPolicy,
  deleteWebhookConfiguration,
  injectionNamespace,
  installCrd,
  policyManifest,
  readPolicy,
  startTestOperator,
  type TestOperator,
  waitForStatus,
  waitUntilInjecting,
} from "./harness.js";

const STATUS = "apicache.io/status";

describe("the operator against a real API server", () => {
  let clients: KubeClients;
  let operator: TestOperator;
  let ns: string;

  beforeAll(async () => {
    clients = e2eClients();
    await installCrd(clients);
    const opNamespace = await createTestNamespace(clients, "apicache-op");
    ns = await injectionNamespace(clients, "shop");
    operator = await startTestOperator({ kubeconfig: e2eKubeconfigPath(), namespace: opNamespace });
    await waitFor("the operator to lead", () => operator.handle.isLeader(), { timeoutMs: 15_000 });
  });

  const rbac = () => clients.kubeConfig.makeApiClient(RbacAuthorizationV1Api);

  afterAll(async () => {
    await operator?.stop();
    if (operator) await deleteWebhookConfiguration(clients, operator.configurationName);
  });

  describe("when a valid CachePolicy is applied", () => {
    it("writes its ConfigMap (owned by the policy) and reports Ready with generation, hash and pod counts", async () => {
      await clients.core.createNamespacedServiceAccount({
        namespace: ns,
        body: { metadata: { name: "legacy" } },
      });
      await clients.core.createNamespacedPod({
        namespace: ns,
        body: appPod("pre-existing", { app: "booking" }, { serviceAccountName: "legacy" }),
      });
      const created = await createPolicy(clients, policyManifest("booking", ns));
      const started = Date.now();
      const ready = await waitForStatus(
        clients,
        ns,
        "booking",
        (p) => condition(p, "Ready")?.status === "True",
      );
      const elapsed = Date.now() - started;

      const cm = await clients.core.readNamespacedConfigMap({ namespace: ns, name: "apicache-booking" });
      expect(cm.metadata?.ownerReferences).toEqual([
        expect.objectContaining({
          kind: "CachePolicy",
          name: "booking",
          uid: created.metadata.uid,
          controller: true,
        }),
      ]);
      const rendered = parse(cm.data?.["policy.yaml"] ?? "") as { spec: { routes: { ttl: string }[] } };
      // The sidecar's own schema, not the CRD's apiVersion (docs/adr/0014-api-evolution.md).
      expect(rendered).toMatchObject({ kind: "SidecarConfig", schemaVersion: 1 });
      expect(rendered).not.toHaveProperty("apiVersion");
      expect(rendered.spec.routes[0]?.ttl).toBe("60s");
      expect(ready.status).toMatchObject({
        observedGeneration: created.metadata.generation,
        configHash: cm.metadata?.annotations?.["apicache.io/config-hash"],
        selectedPods: 1,
        injectedPods: 0,
      });
      expect(condition(ready, "Valid")).toMatchObject({ status: "True" });
      // The pod predates the policy, so the webhook never saw it: the status says it needs a restart.
      const degraded = await waitForStatus(
        clients,
        ns,
        "booking",
        (p) => condition(p, "Degraded")?.reason === "PodsNotInjected",
      );
      expect(condition(degraded, "Degraded")).toMatchObject({
        status: "True",
        message: expect.stringContaining("1 of 1 selected pods run without the sidecar (pre-existing)"),
      });
      expect(elapsed).toBeLessThan(5_000);
      // No pod runs the sidecar yet: nobody is granted the ConfigMap (no Role, no RoleBinding) and no
      // admin token Secret exists for a sidecar to read.
      await expect(
        clients.core.readNamespacedSecret({ namespace: ns, name: "apicache-booking-admin" }),
      ).rejects.toMatchObject({ code: 404 });
      await expect(
        rbac().readNamespacedRole({ namespace: ns, name: "apicache-booking" }),
      ).rejects.toMatchObject({
        code: 404,
      });
      await expect(
        rbac().readNamespacedRoleBinding({ namespace: ns, name: "apicache-booking" }),
      ).rejects.toMatchObject({ code: 404 });
    });
  });

  describe("when pods are created", () => {
    let injected: V1Pod;

    beforeAll(async () => {
      await waitUntilInjecting(clients, ns, { app: "booking" });
      injected = await clients.core.createNamespacedPod({
        namespace: ns,
        body: appPod("api-1", { app: "booking" }),
      });
    });

    it("stores a matching pod with the sidecar, the volume, renamed ports, rewritten probes and the status annotation", async () => {
      const stored = await clients.core.readNamespacedPod({ namespace: ns, name: "api-1" });
      const sidecar = [...(stored.spec?.initContainers ?? []), ...(stored.spec?.containers ?? [])].find(
        (c) => c.name === "apicache-sidecar",
      );
      expect(sidecar).toBeDefined();
      expect(operator.handle.nativeSidecar).toBe(true);
      expect(sidecar?.restartPolicy).toBe("Always");
      expect(sidecar?.ports?.[0]).toMatchObject({ name: "http", containerPort: 9900 });
      const app = stored.spec?.containers.find((c) => c.name === "api");
      expect(app?.ports?.[0]).toMatchObject({ name: "http-app", containerPort: 8080 });
      expect(app?.readinessProbe?.httpGet?.port).toBe("http-app");
      expect(app?.livenessProbe?.tcpSocket?.port).toBe("http-app");
      expect(stored.spec?.volumes).toContainEqual(
        expect.objectContaining({
          name: "apicache-config",
          configMap: expect.objectContaining({ name: "apicache-booking" }),
        }),
      );
      // The admin token: the policy's Secret, created by the operator with the first injected pod and
      // owned by the policy, mounted read-only into the sidecar, which reads it through --admin-token-file.
      expect(stored.spec?.volumes).toContainEqual(
        expect.objectContaining({
          name: "apicache-admin-token",
          secret: expect.objectContaining({ secretName: "apicache-booking-admin", optional: true }),
        }),
      );
      expect(sidecar?.volumeMounts).toContainEqual(
        expect.objectContaining({
          name: "apicache-admin-token",
          mountPath: "/var/run/apicache/admin",
          readOnly: true,
        }),
      );
      expect(sidecar?.args).toEqual(
        expect.arrayContaining(["--admin-token-file", "/var/run/apicache/admin/token", "--admin-token-wait"]),
      );
      const secret = await waitFor("the admin token Secret", () =>
        clients.core.readNamespacedSecret({ namespace: ns, name: "apicache-booking-admin" }),
      );
      expect(secret.metadata?.ownerReferences).toEqual([
        expect.objectContaining({ kind: "CachePolicy", name: "booking", controller: true }),
      ]);
      expect(secret.data?.token).toBeTruthy();
      const status = JSON.parse(stored.metadata?.annotations?.[STATUS] ?? "{}");
      const policy = await readPolicy(clients, ns, "booking");
      expect(status).toMatchObject({ policy: "booking", configHash: policy.status?.configHash });
      expect(injected.metadata?.annotations?.[STATUS]).toBeDefined();
    });

    it("grants the injected pod's service account, and only it, read access to exactly the policy's ConfigMap", async () => {
      const role = await waitFor("the policy's Role", () =>
        rbac().readNamespacedRole({ namespace: ns, name: "apicache-booking" }),
      );
      expect(role.rules).toEqual([
        expect.objectContaining({ resourceNames: ["apicache-booking"], verbs: ["get", "list", "watch"] }),
      ]);
      const binding = await waitFor("the policy's RoleBinding", () =>
        rbac().readNamespacedRoleBinding({ namespace: ns, name: "apicache-booking" }),
      );
      // api-1 runs as "default"; the pre-existing pod (service account "legacy") has no sidecar.
      expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "default", namespace: ns }]);
      expect(binding.roleRef).toMatchObject({ kind: "Role", name: "apicache-booking" });
    });

    it("changes nothing when the webhook runs again on an injected pod", async () => {
      const stored = await clients.core.readNamespacedPod({ namespace: ns, name: "api-1" });
      const again = await clients.core.createNamespacedPod({
        namespace: ns,
        body: {
          metadata: {
            name: "api-1-again",
            labels: stored.metadata?.labels,
            annotations: stored.metadata?.annotations,
          },
          spec: stored.spec,
        },
        dryRun: "All",
      });
      const strip = (pod: V1Pod) => ({
        spec: { ...pod.spec, nodeName: undefined },
        annotations: pod.metadata?.annotations,
      });
      expect(strip(again)).toEqual(strip(stored));
    });

    it.each([
      ["an opted-out pod", appPod("opted-out", { app: "booking", "apicache.io/inject": "false" })],
      ["a pod no policy selects", appPod("other", { app: "other" })],
      ["a hostNetwork pod", appPod("host", { app: "booking" }, { hostNetwork: true })],
    ])("leaves %s untouched", async (_, pod) => {
      const stored = await clients.core.createNamespacedPod({ namespace: ns, body: pod });
      expect(stored.metadata?.annotations?.[STATUS]).toBeUndefined();
      expect(stored.spec?.initContainers ?? []).toEqual([]);
      expect(stored.spec?.containers.map((c) => c.name)).toEqual(["api"]);
    });

    it("leaves pods in a namespace that has not opted in untouched", async () => {
      const plain = await createTestNamespace(clients, "plain");
      await createPolicy(clients, policyManifest("booking", plain));
      await waitForStatus(clients, plain, "booking", (p) => condition(p, "Ready")?.status === "True");
      const stored = await clients.core.createNamespacedPod({
        namespace: plain,
        body: appPod("api", { app: "booking" }),
      });
      expect(stored.metadata?.annotations?.[STATUS]).toBeUndefined();
    });

    it("leaves pods in the operator's own namespace untouched, even when opted in", async () => {
      await clients.core.patchNamespace({
        name: operator.namespace,
        body: [{ op: "add", path: "/metadata/labels/apicache.io~1injection", value: "enabled" }],
      });
      await createPolicy(clients, policyManifest("booking", operator.namespace));
      await waitForStatus(
        clients,
        operator.namespace,
        "booking",
        (p) => condition(p, "Ready")?.status === "True",
      );
      const stored = await clients.core.createNamespacedPod({
        namespace: operator.namespace,
        body: appPod("api", { app: "booking" }),
      });
      expect(stored.metadata?.annotations?.[STATUS]).toBeUndefined();
    });

    it("counts the injected pod in the policy's status", async () => {
      const policy = await waitForStatus(
        clients,
        ns,
        "booking",
        (p) => p.status?.injectedPods === 1 && p.status?.upToDatePods === 1,
      );
      // pre-existing, api-1, the hostNetwork pod and the opted-out pod: selected, only api-1 injected
      expect(policy.status?.selectedPods).toBe(4);
    });
  });

  describe("when a policy fails semantic validation", () => {
    it("reports Valid=False with the reason, emits a Warning Event, and leaves the ConfigMap as it was", async () => {
      const before = await clients.core.readNamespacedConfigMap({ namespace: ns, name: "apicache-booking" });
      const broken = parse(
        readFileSync(
          new URL("../../../crds/examples/semantic-invalid-tag-param.yaml", import.meta.url),
          "utf8",
        ),
      );
      await clients.custom.patchNamespacedCustomObject({
        ...CP,
        namespace: ns,
        name: "booking",
        body: [{ op: "replace", path: "/spec/routes", value: broken.spec.routes }],
      });
      const invalid = await waitForStatus(
        clients,
        ns,
        "booking",
        (p) => condition(p, "Valid")?.status === "False",
      );
      expect(condition(invalid, "Valid")).toMatchObject({
        reason: "InvalidSpec",
        message: expect.stringContaining("barberId"),
      });
      expect(condition(invalid, "Ready")).toMatchObject({ status: "False", reason: "InvalidSpec" });
      const events = await waitFor(
        "an InvalidSpec Event",
        async () => {
          const list = await clients.core.listNamespacedEvent({
            namespace: ns,
            fieldSelector: "involvedObject.name=booking",
          });
          return list.items.find((e: CoreV1Event) => e.reason === "InvalidSpec");
        },
        { timeoutMs: 10_000 },
      );
      expect(events.type).toBe("Warning");
      const after: V1ConfigMap = await clients.core.readNamespacedConfigMap({
        namespace: ns,
        name: "apicache-booking",
      });
      expect(after.data).toEqual(before.data);
      expect(invalid.status?.configHash).toBe(before.metadata?.annotations?.["apicache.io/config-hash"]);
    });

    it("marks the younger of two policies with overlapping selectors OverlappingSelector", async () => {
      await createPolicy(
        clients,
        policyManifest("first", ns, { selector: { matchLabels: { tier: "web" } } }),
      );
      await waitForStatus(clients, ns, "first", (p) => condition(p, "Ready")?.status === "True");
      await createPolicy(
        clients,
        policyManifest("second", ns, {
          selector: { matchExpressions: [{ key: "tier", operator: "Exists" }] },
        }),
      );
      const second = await waitForStatus(
        clients,
        ns,
        "second",
        (p) => condition(p, "Valid")?.status === "False",
      );
      expect(condition(second, "Valid")).toMatchObject({
        reason: "OverlappingSelector",
        message: expect.stringContaining("first"),
      });
      await expect(
        clients.core.readNamespacedConfigMap({ namespace: ns, name: "apicache-second" }),
      ).rejects.toBeInstanceOf(ApiException);
    });
  });
});
