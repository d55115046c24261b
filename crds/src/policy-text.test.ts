import { describe, expect, it } from "vitest";
import { policyHash, policyRevision, revisionLine } from "./policy-text.js";

const body = "apiVersion: apicache.io/v1alpha1\nkind: CachePolicy\n";

describe("rendered policy text", () => {
  it("reads the revision from its comment line, wherever it is", () => {
    expect(policyRevision(`# header\n${revisionLine(7)}${body}`)).toBe(7);
    expect(policyRevision(`${revisionLine(12)}${body}`)).toBe(12);
  });

  it("has no revision when the line is missing or malformed", () => {
    expect(policyRevision(body)).toBeUndefined();
    expect(policyRevision(`# apicache.io/revision: seven\n${body}`)).toBeUndefined();
    expect(policyRevision(`x # apicache.io/revision: 3\n${body}`)).toBeUndefined();
  });

  it("hashes the configuration, not the revision", () => {
    const a = `# header\n${revisionLine(1)}${body}`;
    const b = `# header\n${revisionLine(2)}${body}`;
    expect(policyHash(a)).toBe(policyHash(b));
    expect(policyHash(a)).toBe(policyHash(`# header\n${body}`));
    expect(policyHash(a)).not.toBe(policyHash(`${a}spec: {}\n`));
    expect(policyHash(a)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
