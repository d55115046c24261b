import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { freePort } from "@apicache/testkit/ports";
import { type Spawned, spawnTracked } from "@apicache/testkit/processes";
import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { waitFor } from "@apicache/testkit/wait";
import { HERE, startOrigin } from "./suite.js";

/**
 * The cache under test: the apicache-sidecar binary (from source) with the conformance policy, on a
 * real redis-server, in front of the suite's origin. The policy declares the suite's bookkeeping
 * headers (Req-Num, Test-ID) forward-only, so they reach the origin on fills without entering keys.
 */
export const POLICY = join(HERE, "cache-tests.policy.yaml");
const ROOT = join(HERE, "..", "..", "..");
const MAIN = join(ROOT, "sidecar", "src", "main.ts");

export interface SidecarUnderTest {
  /** Where the suite's client sends its requests. */
  readonly base: string;
  stop(): Promise<void>;
}

export async function startSidecarUnderTest(): Promise<SidecarUnderTest> {
  const origin = await startOrigin();
  let redis: RedisServer | undefined;
  let sidecar: Spawned | undefined;
  let base: string;
  try {
    redis = await startRedis();
    const port = await freePort();
    sidecar = spawnTracked(
      process.execPath,
      [
        "--conditions=source",
        "--import",
        "tsx",
        MAIN,
        ...["--policy", POLICY, "--upstream", origin.url, "--listen", `127.0.0.1:${port}`],
        ...["--redis", redis.url, "--admin", "127.0.0.1:0", "--log-level", "warn"],
      ],
      { cwd: ROOT },
    );
    const url = `http://127.0.0.1:${port}`;
    const started = sidecar;
    await waitFor(
      "the sidecar to answer",
      async () => {
        if (started.child.exitCode !== null) throw new Error(`the sidecar exited:\n${started.output()}`);
        return (await fetch(`${url}/state/none`).catch(() => undefined)) !== undefined;
      },
      { timeoutMs: 30_000 },
    );
    base = url;
  } catch (error) {
    await Promise.all([sidecar?.stop(), redis?.stop(), origin.stop()]);
    throw error;
  }
  const running = { sidecar, redis };
  return {
    base,
    async stop() {
      await running.sidecar.stop();
      // CONFORMANCE_SIDECAR_LOG=FILE keeps the sidecar's log (warnings and errors) for debugging.
      const log = process.env.CONFORMANCE_SIDECAR_LOG;
      if (log) await writeFile(log, running.sidecar.output());
      await Promise.all([running.redis.stop(), origin.stop()]);
    },
  };
}
