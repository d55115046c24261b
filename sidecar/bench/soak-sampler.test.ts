import { describe, expect, it } from "vitest";
import { countSockets, LOOP_RESOLUTION_MS, parseMetrics, parseStatus } from "./soak-sampler.js";

const STATUS = [
  "Name:\tnode",
  "VmPeak:\t 1200000 kB",
  "VmRSS:\t   98304 kB",
  "RssAnon:\t   65536 kB",
  "RssFile:\t   32768 kB",
  "Threads:\t11",
].join("\n");

const METRICS = `# HELP nodejs_heap_size_used_bytes Process heap size used from Node.js in bytes.
# TYPE nodejs_heap_size_used_bytes gauge
nodejs_heap_size_used_bytes 41943040
nodejs_eventloop_lag_p99_seconds 0.0125
nodejs_eventloop_lag_p90_seconds 0.0105
apicache_l1_bytes{policy="soak"} 1048576
apicache_l1_bytes{policy="other"} 1048576
apicache_config_reloads_total{result="success"} 3
apicache_config_reloads_total{result="failure"} 1
`;

describe("the soak's sampler", () => {
  describe("reading /proc/<pid>/status", () => {
    it("takes VmRSS and its anonymous part in bytes", () => {
      expect(parseStatus(STATUS)).toEqual({ rssBytes: 98304 * 1024, rssAnonBytes: 65536 * 1024 });
    });

    it("says the process may have exited when there is no VmRSS", () => {
      expect(() => parseStatus("Name:\tzombie\nState:\tZ")).toThrow(/VmRSS.*exited/);
    });
  });

  describe("reading the sidecar's /metrics", () => {
    it("takes heap used, the event-loop p99 beyond the sampling interval, L1 bytes and successful reloads", () => {
      expect(parseMetrics(METRICS)).toEqual({
        heapUsedBytes: 41943040,
        loopP99Ms: expect.closeTo(12.5 - LOOP_RESOLUTION_MS, 6),
        l1Bytes: 2 * 1048576,
        reloadsOk: 3,
      });
    });

    it("reports an idle loop (p99 just over the interval) as almost no delay, never below zero", () => {
      const idle = METRICS.replace("0.0125", "0.0099");
      expect(parseMetrics(idle).loopP99Ms).toBe(0);
    });

    it("fails when the default metrics are off (no event-loop figure to judge)", () => {
      const without = METRICS.split("\n")
        .filter((line) => !line.startsWith("nodejs_eventloop"))
        .join("\n");
      expect(() => parseMetrics(without)).toThrow(/nodejs_eventloop_lag_p99_seconds/);
    });
  });

  describe("counting sockets", () => {
    it("counts the descriptors whose link names a socket", () => {
      expect(
        countSockets(["/dev/null", "socket:[123]", "pipe:[9]", "anon_inode:[eventpoll]", "socket:[124]"]),
      ).toBe(2);
    });
  });
});
