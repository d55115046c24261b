import { startBusyLoops } from "./busy-loops.js";

/**
 * vitest globalSetup of the `saturated` project: one busy loop per core (APICACHE_BUSY_LOOPS to
 * override) for the whole run, so the integration suites run with every core saturated.
 */
export default function setup(): () => Promise<void> {
  const requested = Number(process.env.APICACHE_BUSY_LOOPS);
  const loops = startBusyLoops(Number.isInteger(requested) && requested > 0 ? requested : undefined);
  process.stderr.write(`saturated: ${loops.count} busy-loop processes compete for the cores\n`);
  return async () => {
    if (!loops.running()) throw new Error("a busy-loop process exited early: the run was not saturated");
    await loops.stop();
  };
}
