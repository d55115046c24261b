/**
 * The echo of the controller's own status write (ADR 0017, section 5): half of the reconciles in a
 * burst of new policies found nothing to do. Everything here runs on fakes, so a bounded number of
 * event-loop turns is enough for a queued reconcile to have run.
 */
import type { CachePolicyStatus } from "@apicache/crds";
import { describe, expect, it } from "vitest";
import { controllerHarness, flush, POLICIES_PATH } from "../../test/controller-harness.js";
import { storedPolicy } from "../../test/fixtures.js";
import type { PolicyObject } from "../kube/informers.js";

async function turns(count = 20): Promise<void> {
  for (let turn = 0; turn < count; turn++) await flush();
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let turn = 0; turn < 100; turn++) {
    if (await condition()) return;
    await flush();
  }
  throw new Error("the condition did not hold within 100 turns of the event loop");
}

/** The policy as the API server holds it after a write: this resourceVersion, this status. */
function stored(policy: PolicyObject, resourceVersion: string, status: CachePolicyStatus | undefined) {
  return { ...policy, metadata: { ...policy.metadata, resourceVersion }, status } as PolicyObject;
}

async function started(harness: ReturnType<typeof controllerHarness>) {
  await harness.policies.start();
  const controller = harness.controller();
  await controller.start();
  await until(async () => (await harness.reconciles()) === harness.policyList.length);
  return controller;
}

describe("the controller and its own status writes", () => {
  it("does not reconcile a policy again for the echo of its own status write, and does for another change", async () => {
    const harness = controllerHarness();
    const controller = await started(harness);
    const [policy] = harness.policyList as [PolicyObject];
    const echo = stored(policy, "rv-1", harness.statuses[0]);
    harness.emit(POLICIES_PATH, "MODIFIED", echo);
    await turns();
    expect(await harness.reconciles()).toBe(1);

    const annotated = {
      ...echo,
      metadata: { ...echo.metadata, resourceVersion: "rv-7", annotations: { a: "b" } },
    };
    harness.emit(POLICIES_PATH, "MODIFIED", annotated);
    await until(async () => (await harness.reconciles()) === 2);
    await controller.stop();
  });

  it("knows an echo that arrives before its write's response", async () => {
    let emitEcho: (status: CachePolicyStatus, resourceVersion: string) => void = () => undefined;
    const harness = controllerHarness({ onStatusWrite: (status, rv) => emitEcho(status, rv) });
    const [policy] = harness.policyList as [PolicyObject];
    emitEcho = (status, rv) => harness.emit(POLICIES_PATH, "MODIFIED", stored(policy, rv, status));
    const controller = await started(harness);
    await turns();
    expect(await harness.reconciles()).toBe(1);
    await controller.stop();
  });

  it("repairs someone else's later status edit, also after an echo that beat its write's response (found by review)", async () => {
    let emitEcho: (status: CachePolicyStatus, resourceVersion: string) => void = () => undefined;
    const harness = controllerHarness({ onStatusWrite: (status, rv) => emitEcho(status, rv) });
    const [policy] = harness.policyList as [PolicyObject];
    emitEcho = (status, rv) => harness.emit(POLICIES_PATH, "MODIFIED", stored(policy, rv, status));
    const controller = await started(harness);
    emitEcho = () => undefined;
    const ours = harness.statuses[0] as CachePolicyStatus;
    // A deposed leader's late write, or kubectl --subresource=status.
    harness.emit(POLICIES_PATH, "MODIFIED", stored(policy, "rv-50", { ...ours, observedGeneration: 0 }));
    await until(async () => harness.statuses.length === 2);
    expect(harness.statuses[1]).toEqual(ours);
    await controller.stop();
  });

  it("forgets what it memoized for a deleted policy", async () => {
    const harness = controllerHarness();
    const controller = await started(harness);
    const [policy] = harness.policyList as [PolicyObject];
    const memo = (
      controller as unknown as { reconciler: { echoes: Map<string, string>; written: Map<string, unknown> } }
    ).reconciler;
    expect(memo.echoes.size + memo.written.size).toBeGreaterThan(0);
    harness.emit(POLICIES_PATH, "DELETED", stored(policy, "rv-2", harness.statuses[0]));
    await turns();
    expect(memo.echoes.size + memo.written.size).toBe(0);
    await controller.stop();
  });

  it("reconciles an edit that a relist folds into the resourceVersion of its write", async () => {
    const harness = controllerHarness();
    const controller = await started(harness);
    const [policy] = harness.policyList as [PolicyObject];
    // The spec was edited (generation 2) and the status write landed on top: after a watch gap, the
    // relist shows one update at the write's resourceVersion.
    const folded = stored(policy, "rv-1", harness.statuses[0]);
    harness.emit(POLICIES_PATH, "MODIFIED", { ...folded, metadata: { ...folded.metadata, generation: 2 } });
    await until(async () => (await harness.reconciles()) >= 2);
    expect(harness.statuses.at(-1)?.observedGeneration).toBe(2);
    await controller.stop();
  });

  it("queues only the policy itself for an update that does not change its generation", async () => {
    const other = storedPolicy({
      name: "other",
      selector: { matchLabels: { app: "other" } },
    }) as PolicyObject;
    const harness = controllerHarness({ policies: [storedPolicy({}) as PolicyObject, other] });
    const controller = await started(harness);
    const [policy] = harness.policyList as [PolicyObject];
    const labelled = {
      ...policy,
      metadata: { ...policy.metadata, resourceVersion: "rv-9", labels: { a: "b" } },
    };
    harness.emit(POLICIES_PATH, "MODIFIED", labelled);
    await until(async () => (await harness.reconciles()) === 3);
    await turns();
    expect(await harness.reconciles()).toBe(3);
    await controller.stop();
  });
});
