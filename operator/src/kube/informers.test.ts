import type { KubernetesListObject, KubernetesObject, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../clock.js";
import type { WatchLike } from "./informer.js";
import { type InformerContext, listInPages, roleBindingInformer, roleInformer } from "./informers.js";

const MANAGED = "app.kubernetes.io/managed-by=apicache-operator";
const flush = () => new Promise((resolve) => setImmediate(resolve));

/** An informer context whose RBAC list calls answer from a script and whose watch calls are recorded. */
function fakeContext(answers: ("fail" | "ok")[]) {
  const lists: { call: string; params: unknown }[] = [];
  const watches: { path: string; params: Record<string, unknown> }[] = [];
  const restarts: string[] = [];
  const answer = (call: string) => async (params: unknown) => {
    const outcome = answers[Math.min(lists.length, answers.length - 1)];
    lists.push({ call, params });
    if (outcome === "fail") throw Object.assign(new Error("forbidden"), { code: 403 });
    const item = { metadata: { name: "apicache-booking", namespace: "shop", resourceVersion: "7" } };
    return { metadata: { resourceVersion: "7" }, items: [item] } as KubernetesListObject<KubernetesObject>;
  };
  const rbac = {
    listRoleForAllNamespaces: answer("listRoleForAllNamespaces"),
    listRoleBindingForAllNamespaces: answer("listRoleBindingForAllNamespaces"),
  } as unknown as RbacAuthorizationV1Api;
  const watch: WatchLike = {
    watch: async (path, params) => {
      watches.push({ path, params });
      return new AbortController();
    },
  };
  const clock = new FakeClock();
  const context = {
    rbac,
    watch,
    clock,
    log: pino({ level: "silent" }),
    onRestart: (resource: string) => restarts.push(resource),
  } as unknown as InformerContext;
  return { context, clock, lists, watches, restarts };
}

describe.each([
  ["roles", roleInformer, "listRoleForAllNamespaces"],
  ["rolebindings", roleBindingInformer, "listRoleBindingForAllNamespaces"],
] as const)("the %s informer", (resource, factory, listCall) => {
  it("lists and watches only the operator's objects, in every namespace", async () => {
    const fake = fakeContext(["ok"]);
    const informer = factory(fake.context);
    await informer.start();
    expect(fake.lists).toEqual([{ call: listCall, params: { labelSelector: MANAGED, limit: 500 } }]);
    expect(fake.watches).toEqual([
      {
        path: `/apis/rbac.authorization.k8s.io/v1/${resource}`,
        params: expect.objectContaining({ labelSelector: MANAGED, resourceVersion: "7" }),
      },
    ]);
    expect(informer.synced).toBe(true);
    expect(informer.get("apicache-booking", "shop")).toBeDefined();
    await informer.stop();
  });

  it(`counts its restarts under resource="${resource}"`, async () => {
    const fake = fakeContext(["fail", "ok"]);
    const informer = factory(fake.context);
    await informer.start();
    expect(informer.synced).toBe(false);
    fake.clock.advance(30_000);
    await flush();
    expect(fake.restarts).toEqual([resource]);
    expect(informer.synced).toBe(true);
    await informer.stop();
  });
});

describe("listInPages", () => {
  const page = (items: number[], next: Record<string, string>) => ({
    metadata: { resourceVersion: "7", ...next },
    items: items.map((i) => ({ metadata: { name: `o${i}` } })),
  });

  it.each([
    ["a typed list (client-node models spell it _continue)", "_continue"],
    ["a custom-object list (plain JSON: continue)", "continue"],
  ])("follows the continue token of %s to the last page, trimming each page", async (_what, field) => {
    const pages = [page([1, 2], { [field]: "t1" }), page([3, 4], { [field]: "t2" }), page([5], {})];
    const asked: unknown[] = [];
    const listed = await listInPages(
      async (request) => {
        asked.push(request);
        return pages[asked.length - 1] as KubernetesListObject<KubernetesObject>;
      },
      (item) => ({ metadata: { name: `${item.metadata?.name}!` } }),
    );
    expect(asked).toEqual([{}, { _continue: "t1" }, { _continue: "t2" }]);
    expect(listed.items.map((item) => item.metadata?.name)).toEqual(["o1!", "o2!", "o3!", "o4!", "o5!"]);
    expect(listed.metadata?.resourceVersion).toBe("7");
  });
});
