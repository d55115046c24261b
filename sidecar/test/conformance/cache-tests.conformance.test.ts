import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compare, type Expectations, readExpectations } from "./expectations.js";
import { type SidecarUnderTest, startSidecarUnderTest } from "./sidecar-under-test.js";
import { type RawResults, runSuite, suiteTests, type TestInfo } from "./suite.js";

/**
 * The conformance tier (make test-conformance): the public cache-tests suite against the sidecar with
 * cache-tests.policy.yaml, judged against the checked-in baseline (expectations.json). A required test
 * that passed at the baseline and fails now fails this test; docs/conformance.md has the numbers.
 */
describe("the cache-tests suite against the sidecar", () => {
  let sidecar: SidecarUnderTest;
  let tests: TestInfo[];
  let results: RawResults;
  let expected: Expectations;

  beforeAll(async () => {
    [sidecar, tests, expected] = await Promise.all([
      startSidecarUnderTest(),
      suiteTests(),
      readExpectations(),
    ]);
    results = await runSuite(sidecar.base);
  });

  afterAll(async () => {
    await sidecar?.stop();
  });

  it("knows every required test of the vendored snapshot", () => {
    expect(compare(expected, tests, results).unknown).toEqual([]);
  });

  it("passes every required test the baseline passes", () => {
    const { regressed, fixed } = compare(expected, tests, results);
    if (fixed.length > 0) {
      // Not a failure: the baseline is behind. `make conformance-baseline` records it.
      process.stderr.write(`cache-tests: now passing, not in the baseline: ${fixed.join(", ")}\n`);
    }
    const details = regressed.map((id) => `${id}: ${JSON.stringify(results[id])}`);
    expect(details).toEqual([]);
  });
});
