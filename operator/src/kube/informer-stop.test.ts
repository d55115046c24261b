/**
 * Stopping an informer whose (paginated) list is still in flight (found by review).
 */
import type { KubernetesListObject, V1ConfigMap } from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../clock.js";
import { ResilientInformer, type WatchLike } from "./informer.js";

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe("stopping an informer whose (paginated) list is still in flight", () => {
  it("opens no watch once stopped", async () => {
    let answer: (list: KubernetesListObject<V1ConfigMap>) => void = () => undefined;
    const watches: string[] = [];
    const watch: WatchLike = {
      watch: async (path) => {
        watches.push(path);
        return new AbortController();
      },
    };
    const informer = new ResilientInformer<V1ConfigMap>({
      resource: "pods",
      path: "/api/v1/pods",
      list: () => new Promise((resolve) => (answer = resolve)), // e.g. page 120 of 300
      watch,
      clock: new FakeClock(),
      backoff: { baseMs: 1_000, maxMs: 8_000 },
      log: pino({ level: "silent" }),
    });
    const started = informer.start();
    await flush();
    // The term's start step timed out (LEADER_START_DEADLINE_MS) or leadership was lost: the
    // controller stops its informers while the pod list is still being paged through.
    await informer.stop();
    answer({
      metadata: { resourceVersion: "100" },
      items: [{ metadata: { name: "a", namespace: "ns", resourceVersion: "5" } }],
    });
    await started;
    await flush();
    // client-node's ListWatch checks `stopped` only before listing: it starts a watch after the list
    // that nothing will ever abort (ListWatch.stop() found no request to abort).
    expect(watches).toEqual([]);
  });
});
