/**
 * The echo of the controller's own status write (ADR 0017, section 5): half of the reconciles in a
 * burst of new policies found nothing to do.
 */
import { describe, expect, it } from "vitest";
import { controllerHarness, flush, POLICIES_PATH } from "../../test/controller-harness.js";
import type { PolicyObject } from "../kube/informers.js";

async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let turn = 0; turn < 100; turn++) {
    if (await condition()) return;
    await flush();
  }
  throw new Error("the condition did not hold within 100 turns of the event loop");
}

describe("the controller and its own status writes", () => {
  it("does not reconcile a policy again for the echo of its own status write, and does for any other change", async () => {
    const { policies, policyList, controller, emit, reconciles, statusWrites } = controllerHarness();
    await policies.start();
    const c = controller();
    await c.start();
    await until(async () => (await reconciles()) === 1 && statusWrites() === 1);
    const [policy] = policyList as [PolicyObject];
    const echo = { ...policy, metadata: { ...policy.metadata, resourceVersion: "rv-1" } };

    emit(POLICIES_PATH, "MODIFIED", echo);
    for (let turn = 0; turn < 20; turn++) await flush(); // everything here is fakes: no I/O to wait for
    expect(await reconciles()).toBe(1);

    const annotated = {
      ...echo,
      metadata: { ...echo.metadata, resourceVersion: "rv-7", annotations: { team: "booking" } },
    };
    emit(POLICIES_PATH, "MODIFIED", annotated);
    await until(async () => (await reconciles()) === 2);
    for (let turn = 0; turn < 20; turn++) await flush();
    // Its generation did not move: only this policy is queued, once.
    expect(await reconciles()).toBe(2);
    await c.stop();
  });
});
