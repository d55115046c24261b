/**
 * Loaded into the operator process by the benchmark (`node --import`), nothing else: every 250 ms
 * it writes the process's V8 and native memory figures, with their peaks, as JSON to the file named
 * by APICACHE_BENCH_MEMORY_FILE, so the benchmark can tell heap from the rest of the resident set.
 * On SIGUSR2 it runs a full garbage collection first and records the heap still in use as `live`
 * (what the caches really hold, garbage not counted); the benchmark sends it at the end of a phase.
 */
import { renameSync, writeFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

const file = process.env.APICACHE_BENCH_MEMORY_FILE;
if (file) {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc");
  const peak = { heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
  let live;
  const write = () => {
    const now = process.memoryUsage();
    for (const key of Object.keys(peak)) peak[key] = Math.max(peak[key], now[key]);
    writeFileSync(`${file}.tmp`, JSON.stringify({ now, peak, live }));
    renameSync(`${file}.tmp`, file);
  };
  setInterval(write, 250).unref();
  process.on("SIGUSR2", () => {
    gc();
    live = { at: Date.now(), ...process.memoryUsage() };
    write();
  });
}
