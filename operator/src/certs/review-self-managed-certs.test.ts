/**
 * Review reproducer: certificate upkeep is not fenced by the term of leadership (expected to FAIL).
 * A round whose Secret read is held up (partition, frozen leader) resumes after stop() — i.e. after
 * leadership ended and another replica may lead — and still publishes a caBundle (the SSA of the
 * MutatingWebhookConfiguration has no precondition and runs before any `leading` check in issue()
 * and in the keep path). With a CA change in that window it overwrites the new leader's bundle.
 */
import { ApiException, type V1Secret } from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../clock.js";
import { SelfManagedCerts } from "./self-managed-certs.js";

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe("review: self-managed certificate upkeep after leadership ended", () => {
  it("publishes no caBundle once stop() was called", async () => {
    let answer: (secret: V1Secret) => void = () => undefined;
    let reject: (error: unknown) => void = () => undefined;
    let reads = 0;
    const core = {
      readNamespacedSecret: () => {
        reads += 1;
        if (reads === 1)
          return new Promise<V1Secret>((resolve, rej) => {
            answer = resolve;
            reject = rej;
          });
        return Promise.reject(new ApiException(404, "not found", "", {}));
      },
      createNamespacedSecret: async ({ body }: { body: V1Secret }) => body,
      replaceNamespacedSecret: async ({ body }: { body: V1Secret }) => body,
    };
    const informer = { on: () => undefined, get: () => undefined };
    const published: string[] = [];
    const certs = new SelfManagedCerts(
      {
        core: core as never,
        namespace: "apicache-system",
        secretName: "apicache-webhook-tls",
        names: ["apicache-operator-webhook.apicache-system.svc"],
        certValidityMs: 90 * 24 * 3600_000,
        caValidityMs: 10 * 365 * 24 * 3600_000,
        clock: new FakeClock(Date.now()),
        log: pino({ level: "silent" }),
        publishCaBundle: async (bundle) => {
          published.push(bundle);
        },
      },
      informer as never,
    );
    const leading = certs.lead(); // the read hangs (frozen / partitioned leader)
    await flush();
    const stopped = certs.stop(); // leadership lost: unlead()
    await flush();
    // The partition heals: the Secret read answers "missing" (e.g. deleted meanwhile), so the old
    // leader decides new-ca and publishes a bundle holding only ITS new CA.
    reject(new ApiException(404, "not found", "", {}));
    void answer;
    await leading;
    await stopped;
    expect(published).toEqual([]);
  });
});
