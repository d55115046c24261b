import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { freePort } from "@apicache/testkit/ports";
import { type Spawned, spawnTracked } from "@apicache/testkit/processes";
import { waitFor } from "@apicache/testkit/wait";

/**
 * Running the vendored cache-tests suite (cache-tests/, see its SNAPSHOT.md): its origin server, its
 * command-line client against any cache, and the verdict per test. Shared by the conformance tier and
 * the `make conformance-*` commands.
 */
export const HERE = dirname(fileURLToPath(import.meta.url));
export const SUITE = join(HERE, "cache-tests");
const run = promisify(execFile);

export interface TestInfo {
  readonly id: string;
  readonly group: string;
  readonly kind: "required" | "optimal" | "check";
  readonly name: string;
}

/** Every test a reverse proxy runs (browser-only tests left out), in suite order. */
export async function suiteTests(): Promise<TestInfo[]> {
  const index = (await import(pathToFileURL(join(SUITE, "tests", "index.mjs")).href)) as {
    default: {
      id: string;
      tests: { id: string; kind?: TestInfo["kind"]; name: string; browser_only?: boolean }[];
    }[];
  };
  return index.default.flatMap((suite) =>
    suite.tests
      .filter((test) => test.browser_only !== true)
      .map((test) => ({ id: test.id, group: suite.id, kind: test.kind ?? "required", name: test.name })),
  );
}

/** The suite's origin server on a free (or the given) port. */
export async function startOrigin(
  port?: number,
): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  const chosen = port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), "cache-tests-"));
  const server: Spawned = spawnTracked(
    process.execPath,
    [join(SUITE, "test-engine", "server", "server.mjs")],
    {
      env: {
        ...process.env,
        npm_config_protocol: "http",
        npm_config_port: String(chosen),
        npm_config_pidfile: join(dir, "server.pid"),
      },
    },
  );
  await waitFor("the cache-tests origin to listen", () => server.output().includes("Listening on"), {
    timeoutMs: 15_000,
  });
  return { url: `http://127.0.0.1:${chosen}`, port: chosen, stop: () => server.stop() };
}

/** Raw results per test id: true, or the failure the client recorded. */
export type RawResults = Record<string, unknown>;

/** Runs the whole suite (or one test) against `base`, the cache's URL. */
export async function runSuite(base: string, testId = ""): Promise<RawResults> {
  const { stdout } = await run(process.execPath, ["--no-warnings", join(SUITE, "test-engine", "cli.mjs")], {
    env: { ...process.env, npm_config_base: base, npm_config_id: testId, npm_package_config_id: testId },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 600_000,
  });
  if (testId !== "") return { [testId]: stdout };
  return JSON.parse(stdout) as RawResults;
}

/** Whether a raw result is a pass (the suite's own reading: exactly `true`). */
export function passed(results: RawResults, id: string): boolean {
  return results[id] === true;
}
