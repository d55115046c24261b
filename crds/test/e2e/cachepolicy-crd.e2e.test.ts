import {
  type KubernetesObject,
  PatchStrategy,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { apiFailure, createTestNamespace, type KubeClients } from "../../../testkit/src/kube/client.js";
import { e2eClients } from "../../../testkit/src/kube/e2e-context.js";
import { waitFor } from "../../../testkit/src/wait.js";
import { crdPath, type Example, examplesDir, loadCrd, loadExamples } from "./manifests.js";

const examples = loadExamples();
const fieldManager = "apicache-e2e";

interface Resource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
}

function resourceOf(crd: V1CustomResourceDefinition): Resource {
  const served = crd.spec.versions.find((v) => v.storage) ?? crd.spec.versions[0];
  if (served === undefined) throw new Error(`${crdPath} declares no versions`);
  return {
    group: crd.spec.group,
    version: served.name,
    plural: crd.spec.names.plural,
    kind: crd.spec.names.kind,
  };
}

function isEstablished(crd: V1CustomResourceDefinition): boolean {
  return crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") === true;
}

/** Create one object of an example in `namespace` (the example's own namespace is ignored). */
async function create(clients: KubeClients, resource: Resource, namespace: string, object: KubernetesObject) {
  const body = { ...object, metadata: { ...object.metadata, namespace } };
  if (object.kind === resource.kind) {
    const [group, version] = (object.apiVersion ?? "").split("/");
    return clients.custom.createNamespacedCustomObject({
      group: group ?? resource.group,
      version: version ?? resource.version,
      namespace,
      plural: resource.plural,
      body,
      fieldManager,
      // What `kubectl apply` sends: unknown fields are errors, not silently pruned.
      fieldValidation: "Strict",
    }) as Promise<KubernetesObject>;
  }
  return clients.objects.create(body, undefined, undefined, fieldManager);
}

async function rejection(promise: Promise<unknown>): Promise<{ code: number; message: string } | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    const failure = apiFailure(error);
    if (failure === undefined) throw error;
    return failure;
  }
}

describe("the CachePolicy CRD on a real API server", () => {
  let clients: KubeClients;
  let resource: Resource;

  beforeAll(async () => {
    clients = e2eClients();
    const crd = loadCrd();
    resource = resourceOf(crd);
    const failure = await rejection(
      clients.objects.patch(crd, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply),
    );
    if (failure !== undefined) {
      throw new Error(`the API server rejected ${crdPath} (HTTP ${failure.code}): ${failure.message}`);
    }
  });

  it("becomes Established", async () => {
    const name = `${resource.plural}.${resource.group}`;
    const crd = await waitFor(
      `CRD ${name} to be Established`,
      async () => {
        const current = await clients.apiextensions.readCustomResourceDefinition({ name });
        return isEstablished(current) ? current : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(crd.status?.acceptedNames?.kind).toBe(resource.kind);
  });

  describe("valid examples", () => {
    it("include at least one file", () => {
      expect(
        examples.accepted.map((e) => e.file),
        `no valid examples in ${examplesDir}`,
      ).not.toEqual([]);
    });

    it.each(examples.accepted.map((e) => [e.file, e] as const))(
      "accepts %s",
      async (_file, example: Example) => {
        const namespace = await createTestNamespace(clients, "example");
        for (const object of example.objects) {
          const created = await create(clients, resource, namespace, object);
          expect(created.metadata?.uid).toBeTruthy();
        }
      },
    );
  });

  describe("invalid examples", () => {
    it("include at least one file", () => {
      expect(
        examples.rejected.map((e) => e.file),
        `no invalid-*.yaml examples in ${examplesDir}`,
      ).not.toEqual([]);
    });

    it.each(examples.rejected.map((e) => [e.file, e] as const))(
      "rejects %s",
      async (file, example: Example) => {
        expect(
          example.expect,
          `${file} needs a leading "# expect: <API server message>" comment`,
        ).not.toEqual([]);
        const policies = example.objects.filter((o) => o.kind === resource.kind);
        expect(policies, `${file} holds no ${resource.kind}`).not.toEqual([]);
        const namespace = await createTestNamespace(clients, "invalid");
        for (const object of example.objects) {
          if (object.kind !== resource.kind) {
            await create(clients, resource, namespace, object);
            continue;
          }
          const failure = await rejection(create(clients, resource, namespace, object));
          expect(failure, `${file} was accepted by the API server`).toBeDefined();
          expect(failure?.code).toBeOneOf([400, 422]);
          for (const expected of example.expect) {
            expect(failure?.message, `${file}: the API server said: ${failure?.message}`).toContain(expected);
          }
        }
      },
    );
  });

  describe("the status subresource", () => {
    it("takes a status update without bumping metadata.generation", async () => {
      const policy = examples.accepted.flatMap((e) => e.objects).find((o) => o.kind === resource.kind);
      if (policy === undefined)
        throw new Error(`no valid ${resource.kind} example in ${examplesDir} to update`);
      const namespace = await createTestNamespace(clients, "status");
      const created = await create(clients, resource, namespace, policy);
      const name = created.metadata?.name ?? "";
      const ref = {
        group: resource.group,
        version: resource.version,
        namespace,
        plural: resource.plural,
        name,
      };

      const updated = (await clients.custom.patchNamespacedCustomObjectStatus({
        ...ref,
        body: [{ op: "add", path: "/status", value: { observedGeneration: created.metadata?.generation } }],
      })) as KubernetesObject & { status?: { observedGeneration?: number } };

      expect(updated.metadata?.resourceVersion).not.toBe(created.metadata?.resourceVersion);
      expect(updated.status?.observedGeneration).toBe(created.metadata?.generation);
      const stored = (await clients.custom.getNamespacedCustomObject(ref)) as KubernetesObject;
      expect(stored.metadata?.generation).toBe(created.metadata?.generation);
    });
  });
});
