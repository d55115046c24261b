import { defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

// Four tiers, one runner. Every workspace contributes to each tier by file location:
//   unit:        */src/**/*.test.ts                  pure logic, fakes passed in, no processes
//   integration: */test/**/*.int.test.ts              real Redis, real HTTP servers, real child processes
//   conformance: */test/conformance/**/*.conformance.test.ts  the public cache-tests suite against the
//                sidecar (real process, real Redis), judged against a checked-in baseline
//   e2e:         */test/e2e/**/*.e2e.test.ts          a real kube-apiserver + etcd (started once by globalSetup)
//   cluster:     */test/cluster/**/*.cluster.test.ts  a real single-node cluster: pods run (globalSetup);
//                runs after the other three (groupOrder), one file at a time
// Workspace packages resolve to their TypeScript sources (the `source` export condition), so tests
// never need a build first.
const conditions = ["source", ...defaultServerConditions];
const shared = { resolve: { conditions }, ssr: { resolve: { conditions } } };

export default defineConfig({
  test: {
    reporters: ["default", "./hack/summary-reporter.ts"],
    projects: [
      {
        ...shared,
        test: { name: "unit", include: ["*/src/**/*.test.ts", "hack/**/*.test.ts"], environment: "node" },
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
      {
        ...shared,
        test: {
          name: "conformance",
          include: ["*/test/conformance/**/*.conformance.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 600_000,
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
