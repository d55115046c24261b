import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { HERE, passed, type RawResults, type TestInfo } from "./suite.js";

/**
 * The checked-in baseline of required cache-tests (expectations.json): which pass, which still fail.
 * A required test listed as passing that fails now breaks the build; one listed as failing that now
 * passes is reported, so the baseline can be raised (`make conformance-baseline`).
 */
export const EXPECTATIONS = join(HERE, "expectations.json");

export interface Expectations {
  readonly snapshot: string;
  readonly required: { readonly pass: readonly string[]; readonly fail: readonly string[] };
}

export async function readExpectations(): Promise<Expectations> {
  return JSON.parse(await readFile(EXPECTATIONS, "utf8")) as Expectations;
}

export function baseline(tests: readonly TestInfo[], results: RawResults, snapshot: string): Expectations {
  const required = tests.filter((test) => test.kind === "required");
  return {
    snapshot,
    required: {
      pass: required.filter((test) => passed(results, test.id)).map((test) => test.id),
      fail: required.filter((test) => !passed(results, test.id)).map((test) => test.id),
    },
  };
}

export async function writeExpectations(expectations: Expectations): Promise<void> {
  await writeFile(EXPECTATIONS, `${JSON.stringify(expectations, null, 2)}\n`);
}

export interface Comparison {
  /** Required tests the baseline says pass, failing now: regressions. */
  readonly regressed: readonly string[];
  /** Required tests the baseline lists as failing that pass now. */
  readonly fixed: readonly string[];
  /** Required tests the baseline does not know (a newer snapshot). */
  readonly unknown: readonly string[];
}

export function compare(expected: Expectations, tests: readonly TestInfo[], results: RawResults): Comparison {
  const pass = new Set(expected.required.pass);
  const fail = new Set(expected.required.fail);
  const required = tests.filter((test) => test.kind === "required").map((test) => test.id);
  return {
    regressed: required.filter((id) => pass.has(id) && !passed(results, id)),
    fixed: required.filter((id) => fail.has(id) && passed(results, id)),
    unknown: required.filter((id) => !pass.has(id) && !fail.has(id)),
  };
}
