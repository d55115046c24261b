import { describe, expect, it } from "vitest";
import { policyReloaded, type SoakWorld } from "./soak-faults.js";

describe("the soak's policy reload", () => {
  it("writes a policy that differs from the one in effect at every reload of a run", async () => {
    const written: string[] = [];
    let reloads = 0;
    const world = {
      l1MiB: 64,
      reloadsOk: async () => reloads,
      volume: { update: async (text: string) => void written.push(text) },
    } as unknown as SoakWorld;
    for (let fault = 0; fault < 3; fault++) {
      await policyReloaded(world).inject();
      reloads += 1; // the sidecar applies it
    }
    expect(written[0]).not.toBe(written[1]);
    expect(written[1]).not.toBe(written[2]);
    expect(written[0]).toBe(written[2]);
  });
});
