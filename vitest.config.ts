import { defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

// Four tiers, one runner (plus `saturated`, below). Every workspace contributes to each tier by file location:
//   unit:        */src/**/*.test.ts, */bench/**/*.test.ts   pure logic, fakes passed in, no processes
//   integration: */test/**/*.int.test.ts              real Redis, real HTTP servers, real child processes
//   conformance: */test/conformance/**/*.conformance.test.ts  the public cache-tests suite against the
//                sidecar (real process, real Redis), judged against a checked-in baseline; runs last
//   e2e:         */test/e2e/**/*.e2e.test.ts          a real kube-apiserver + etcd (started once by globalSetup)
//   cluster:     */test/cluster/**/*.cluster.test.ts  a real single-node cluster: pods run (globalSetup);
//                runs after the other three (groupOrder), one file at a time
//   faults:      */test/faults/**/*.faults.test.ts   one load through one sidecar while Redis, the upstream, the
//                policy and the sidecar itself fail one at a time (`make test-faults`); alone, after the rest
// Workspace packages resolve to their TypeScript sources (the `source` export condition), so tests
// never need a build first.
const conditions = ["source", ...defaultServerConditions];
const shared = { resolve: { conditions }, ssr: { resolve: { conditions } } };

// The sidecar integration tier again, with one busy-loop process per core competing for the CPU the
// whole time (testkit/src/cpu): timing-dependent behaviour must hold on a saturated node; plus
// sidecar/test/*.saturated.test.ts, which assert exactly that (coalescing, stale-if-error). Only when
// APICACHE_SATURATED=1 (`make test-saturated`), so a plain `vitest run` does not run it.
const saturated =
  process.env.APICACHE_SATURATED === "1"
    ? [
        {
          ...shared,
          test: {
            name: "saturated",
            include: ["sidecar/test/**/*.int.test.ts", "sidecar/test/**/*.saturated.test.ts"],
            environment: "node" as const,
            globalSetup: ["testkit/src/cpu/global-setup.ts"],
            testTimeout: 120_000,
            hookTimeout: 120_000,
          },
        },
      ]
    : [];

export default defineConfig({
  test: {
    reporters: ["default", "./hack/summary-reporter.ts"],
    projects: [
      {
        ...shared,
        // */bench: the benchmarks' pure parts (their tables, percentiles, results sections).
        test: {
          name: "unit",
          include: ["*/src/**/*.test.ts", "*/bench/**/*.test.ts", "hack/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        ...shared,
        test: {
          name: "integration",
          include: ["*/test/**/*.int.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      ...saturated,
      {
        ...shared,
        test: {
          name: "conformance",
          include: ["*/test/conformance/**/*.conformance.test.ts"],
          environment: "node",
          // Last and alone: the suite's own timing (pauses of a few seconds against max-age=1) must not
          // compete with the other tiers for the cores.
          sequence: { groupOrder: 2 },
          testTimeout: 60_000,
          hookTimeout: 600_000,
        },
      },
      {
        ...shared,
        test: {
          name: "faults",
          include: ["*/test/faults/**/*.faults.test.ts"],
          environment: "node",
          // Alone, after the other local tiers (and before the cluster tier): one load, faults held for
          // seconds and real Prometheus alerts; its timings must not compete with other files for the cores.
          fileParallelism: false,
          sequence: { groupOrder: 3 },
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        ...shared,
        test: {
          name: "e2e",
          include: ["*/test/e2e/**/*.e2e.test.ts"],
          environment: "node",
          globalSetup: ["testkit/src/kube/global-setup.ts"],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        ...shared,
        test: {
          name: "cluster",
          include: ["*/test/cluster/**/*.cluster.test.ts"],
          environment: "node",
          globalSetup: ["testkit/src/cluster/global-setup.ts"],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
