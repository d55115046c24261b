/**
 * A vitest global teardown whose failure fails the run. Vitest 4 only logs an error thrown by a global
 * teardown ("error during close") and still exits 0, so a cluster tier that left the host changed
 * would pass; setting the exit code here makes the run fail (checked by
 * testkit/test/cluster/teardown.cluster.test.ts against vitest itself).
 */
export function failRunOnError(teardown: () => Promise<void>): () => Promise<void> {
  return async () => {
    try {
      await teardown();
    } catch (error) {
      process.exitCode = 1;
      throw error;
    }
  };
}
