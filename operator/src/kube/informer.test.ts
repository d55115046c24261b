import type { KubernetesListObject, V1ConfigMap } from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../clock.js";
import { ResilientInformer, type WatchLike } from "./informer.js";

type Done = (error: unknown) => void;
type Callback = (phase: string, object: V1ConfigMap) => void;

/** A fake list/watch pair: lists answer from a script; each watch call is recorded and driven by the test. */
function fakeApi(lists: (() => KubernetesListObject<V1ConfigMap>)[]) {
  const watches: { params: Record<string, unknown>; callback: Callback; done: Done }[] = [];
  let listCalls = 0;
  const list = async () => {
    const next = lists[Math.min(listCalls, lists.length - 1)] as () => KubernetesListObject<V1ConfigMap>;
    listCalls += 1;
    return next();
  };
  const watch: WatchLike = {
    watch: async (_path, params, callback, done) => {
      watches.push({ params, callback: callback as Callback, done });
      return new AbortController();
    },
  };
  return { list, watch, watches, listCalls: () => listCalls };
}

const cm = (name: string, rv: string): V1ConfigMap => ({
  metadata: { name, namespace: "ns", resourceVersion: rv },
});
const listOf =
  (rv: string, ...items: V1ConfigMap[]) =>
  () => ({ metadata: { resourceVersion: rv }, items });
const fail = () => {
  throw Object.assign(new Error("connection refused"), { code: "ECONNREFUSED" });
};
const flush = () => new Promise((resolve) => setImmediate(resolve));

function informer(
  api: ReturnType<typeof fakeApi>,
  clock: FakeClock,
  restarts: string[],
  transform?: (object: V1ConfigMap, cached: V1ConfigMap | undefined) => V1ConfigMap,
) {
  return new ResilientInformer<V1ConfigMap>({
    ...(transform ? { transform } : {}),
    resource: "configmaps",
    path: "/api/v1/configmaps",
    list: api.list,
    watch: api.watch,
    clock,
    backoff: { baseMs: 1_000, maxMs: 8_000 },
    log: pino({ level: "silent" }),
    onRestart: (resource) => restarts.push(resource),
  });
}

describe("the resilient informer", () => {
  it("restarts with backoff after a failed list and syncs once a list succeeds", async () => {
    const api = fakeApi([fail, fail, listOf("10", cm("a", "10"))]);
    const clock = new FakeClock();
    const restarts: string[] = [];
    const inf = informer(api, clock, restarts);
    await inf.start();
    expect(inf.synced).toBe(false);
    clock.advance(999);
    expect(api.listCalls()).toBe(1);
    clock.advance(1);
    await flush();
    expect(api.listCalls()).toBe(2);
    clock.advance(2_000); // second failure backs off twice as long
    await flush();
    expect(api.listCalls()).toBe(3);
    expect(inf.synced).toBe(true);
    expect(inf.get("a", "ns")).toBeDefined();
    expect(restarts).toEqual(["configmaps", "configmaps"]);
  });

  it("restarts a watch that failed with a non-410 error, resuming from its resourceVersion", async () => {
    const api = fakeApi([listOf("10", cm("a", "10"))]);
    const clock = new FakeClock();
    const inf = informer(api, clock, []);
    await inf.start();
    api.watches[0]?.callback("ADDED", cm("b", "11"));
    api.watches[0]?.done(Object.assign(new Error("Forbidden"), { statusCode: 403 }));
    await flush();
    expect(api.watches).toHaveLength(1); // the library stopped; we wait out the backoff
    clock.advance(1_000);
    await flush();
    expect(api.watches).toHaveLength(2);
    expect(api.watches[1]?.params.resourceVersion).toBe("11");
    expect(api.listCalls()).toBe(1);
    expect(
      inf
        .list()
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(["a", "b"]);
  });

  it("relists on 410 Gone and drops objects deleted meanwhile", async () => {
    const api = fakeApi([listOf("10", cm("a", "10"), cm("b", "10")), listOf("20", cm("a", "20"))]);
    const clock = new FakeClock();
    const deleted: string[] = [];
    const inf = informer(api, clock, []);
    inf.on("delete", (o) => deleted.push(o.metadata?.name ?? ""));
    await inf.start();
    api.watches[0]?.callback("ERROR", { code: 410 } as never);
    api.watches[0]?.done(null);
    await flush();
    expect(api.listCalls()).toBe(2);
    expect(deleted).toEqual(["b"]);
    expect(api.watches[1]?.params.resourceVersion).toBe("20");
  });

  it("does not restart after stop", async () => {
    const api = fakeApi([listOf("10")]);
    const clock = new FakeClock();
    const inf = informer(api, clock, []);
    await inf.start();
    await inf.stop();
    api.watches[0]?.done(new Error("aborted"));
    clock.advance(60_000);
    await flush();
    expect(api.watches).toHaveLength(1);
  });

  it("hands the transform the cached object of that name, on a watch event and on a relist", async () => {
    const api = fakeApi([listOf("10", cm("a", "10")), listOf("30", cm("a", "30"))]);
    const seen: string[] = [];
    const transform = (object: V1ConfigMap, cached: V1ConfigMap | undefined) => {
      seen.push(`${object.metadata?.resourceVersion} after ${cached?.metadata?.resourceVersion ?? "-"}`);
      return object;
    };
    const inf = informer(api, new FakeClock(), [], transform);
    await inf.start();
    api.watches[0]?.callback("MODIFIED", cm("a", "20"));
    api.watches[0]?.callback("ERROR", { code: 410 } as never);
    api.watches[0]?.done(null);
    await flush();
    expect(seen).toEqual(["10 after -", "20 after 10", "30 after 20"]);
    expect(inf.get("a", "ns")?.metadata?.resourceVersion).toBe("30");
  });
});
