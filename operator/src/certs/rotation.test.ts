import { describe, expect, it } from "vitest";
import { describeCerts, issueCa, issueServing } from "./issue.js";
import { nextCheckIn, reissueDecision, renewAt, rotationDue } from "./rotation.js";

const H = 3_600_000;
const serving = { notBefore: 0, notAfter: 90 * H, names: ["svc.ns.svc"] };
const ca = { notBefore: 0, notAfter: 900 * H };

describe("certificate rotation timing", () => {
  it.each([
    [59 * H, false],
    [60 * H, true],
    [89 * H, true],
  ])("a 90h certificate at %i ms is due: %s (renewed at 2/3 of its life)", (now, due) => {
    expect(rotationDue(serving, now)).toBe(due);
  });

  it("renews at a configurable fraction", () => {
    expect(renewAt(serving, 0.5)).toBe(45 * H);
  });

  it.each([
    [undefined, 0, "new-ca"],
    [{ ca, serving }, 10 * H, "keep"],
    [{ ca, serving }, 61 * H, "new-serving"],
    [{ ca, serving }, 601 * H, "new-ca"],
    [{ ca, serving: { ...serving, names: ["other"] } }, 10 * H, "new-serving"],
  ])("stored %j at %i decides %s", (stored, now, action) => {
    expect(reissueDecision(stored, ["svc.ns.svc"], now).action).toBe(action);
  });

  it("schedules the next check at the soonest renewal, within bounds", () => {
    expect(nextCheckIn([serving, ca], 10 * H, { minMs: 1_000, maxMs: 100 * H })).toBe(50 * H);
    expect(nextCheckIn([serving], 80 * H, { minMs: 1_000, maxMs: 100 * H })).toBe(1_000);
    expect(nextCheckIn([ca], 0, { minMs: 1_000, maxMs: H })).toBe(H);
  });
});

describe("issued certificates", () => {
  it("carry the requested names and lifetimes", () => {
    const now = Date.parse("2025-05-01T00:00:00Z");
    const authority = issueCa(now, 10 * H);
    const cert = issueServing(authority, ["127.0.0.1", "svc.ns.svc"], now, H);
    const described = describeCerts({ ca: authority, serving: cert });
    expect(described.serving.names).toEqual(["127.0.0.1", "svc.ns.svc"]);
    expect(described.serving.notAfter).toBe(now + H);
    expect(described.ca.notAfter).toBe(now + 10 * H);
  });
});
