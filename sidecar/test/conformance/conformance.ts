import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { baseline, writeExpectations } from "./expectations.js";
import { startSidecarUnderTest } from "./sidecar-under-test.js";
import { HERE, passed, type RawResults, runSuite, startOrigin, suiteTests, type TestInfo } from "./suite.js";

/**
 * The conformance commands behind mk/conformance.mk:
 *
 *   baseline                            run against the sidecar; write expectations.json and
 *                                       results/apicache.json
 *   run --base URL --origin-port N --out NAME
 *                                       start the suite's origin on port N and run against a cache
 *                                       already listening at URL (nginx, Varnish) → results/NAME.json
 *   report                              required tests passed, by group, for every results/*.json
 *   one --id TEST                       run one test against the sidecar, with the suite's dump of
 *                                       every request and response (for debugging)
 */
const RESULTS = join(HERE, "results");
const SNAPSHOT = "b55b8bda3dbb8c927c04e85bd8d496a8caa3e4ba";

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      base: { type: "string" },
      "origin-port": { type: "string" },
      out: { type: "string" },
      id: { type: "string" },
    },
  });
  if (command === "baseline") return baselineCommand();
  if (command === "run" && values.base && values["origin-port"] && values.out) {
    return runCommand(values.base, Number(values["origin-port"]), values.out);
  }
  if (command === "report") return reportCommand();
  if (command === "one" && values.id) return oneCommand(values.id);
  throw new Error("usage: conformance.ts baseline | run --base URL --origin-port N --out NAME | report");
}

async function baselineCommand(): Promise<void> {
  const sidecar = await startSidecarUnderTest();
  try {
    const results = await runSuite(sidecar.base);
    await save("apicache", results);
    const expectations = baseline(await suiteTests(), results, SNAPSHOT);
    await writeExpectations(expectations);
    print(`required: ${expectations.required.pass.length} pass, ${expectations.required.fail.length} fail`);
  } finally {
    await sidecar.stop();
  }
}

async function oneCommand(id: string): Promise<void> {
  const sidecar = await startSidecarUnderTest();
  try {
    print(String((await runSuite(sidecar.base, id))[id]));
  } finally {
    await sidecar.stop();
  }
}

async function runCommand(base: string, originPort: number, name: string): Promise<void> {
  const origin = await startOrigin(originPort);
  try {
    await save(name, await runSuite(base));
  } finally {
    await origin.stop();
  }
}

async function save(name: string, results: RawResults): Promise<void> {
  await writeFile(join(RESULTS, `${name}.json`), `${JSON.stringify(results, null, 2)}\n`);
}

/** Which results files the report shows, in columns, with their headings. */
const COLUMNS = [
  ["apicache", "apicache"],
  ["nginx-local", "nginx (here)"],
  ["varnish-local", "Varnish (here)"],
  ["nginx", "nginx (published)"],
  ["varnish", "Varnish (published)"],
] as const;

async function reportCommand(): Promise<void> {
  const tests = (await suiteTests()).filter((test) => test.kind === "required");
  const columns: [string, RawResults][] = [];
  for (const [file, heading] of COLUMNS) {
    const text = await readFile(
      join(
        file.endsWith("local") || file === "apicache" ? RESULTS : join(HERE, "cache-tests", "results"),
        `${file}.json`,
      ),
      "utf8",
    ).catch(() => undefined);
    if (text !== undefined) columns.push([heading, JSON.parse(text) as RawResults]);
  }
  print(table(tests, columns));
  print(bothPassApicacheFails(tests, columns));
}

function table(tests: readonly TestInfo[], columns: readonly [string, RawResults][]): string {
  const groups = [...new Set(tests.map((test) => test.group))];
  const rows = [`| group (required tests) | ${columns.map(([heading]) => heading).join(" | ")} |`];
  rows.push(`|---|${columns.map(() => "---:").join("|")}|`);
  const line = (label: string, subset: readonly TestInfo[]) =>
    `| ${label} | ${columns.map(([, results]) => subset.filter((test) => passed(results, test.id)).length).join(" | ")} |`;
  for (const group of groups) {
    const subset = tests.filter((test) => test.group === group);
    rows.push(line(`${group} (${subset.length})`, subset));
  }
  rows.push(line(`**all (${tests.length})**`, tests));
  return rows.join("\n");
}

function bothPassApicacheFails(tests: readonly TestInfo[], columns: readonly [string, RawResults][]): string {
  const find = (heading: string) => columns.find(([h]) => h === heading)?.[1];
  const own = find("apicache");
  const lines: string[] = [];
  for (const where of ["published", "here"]) {
    const [nginx, varnish] = [find(`nginx (${where})`), find(`Varnish (${where})`)];
    if (!own || !nginx || !varnish) continue;
    const gaps = tests.filter((t) => passed(nginx, t.id) && passed(varnish, t.id) && !passed(own, t.id));
    lines.push(`\nRequired tests nginx and Varnish (${where}) both pass and apicache fails: ${gaps.length}`);
    for (const t of gaps) lines.push(`- ${t.group} ${t.id}`);
  }
  return lines.join("\n");
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

await main(process.argv.slice(2));
