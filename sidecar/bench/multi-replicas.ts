/**
 * Replicas for `make bench-multi`: N sidecar processes of the tsc build (bench-sidecar-child.ts, each
 * with an admin listener for its /metrics) in front of one upstream, sharing one Redis, and what their
 * metrics say.
 */
import { waitFor } from "@apicache/testkit/wait";
import { spawnChild } from "./bench-children.js";
import { sumMetric } from "./multi-report.js";

export interface BenchReplica {
  readonly url: string;
  readonly adminUrl: string;
}

export interface ReplicaSetOptions {
  readonly count: number;
  readonly upstream: string;
  /** "" for none: each replica keeps its own memory store. */
  readonly redisUrl: string;
  /** store.memory.maxEntryAge: "0s" leaves L1 out (every hit read from Redis). */
  readonly maxEntryAge: string;
  /** The sidecar build the children import (buildSidecar). */
  readonly build: string;
}

/** Starts the replicas one after the other (a start-up burst of N processes would only slow each one). */
export async function startReplicaSet(options: ReplicaSetOptions): Promise<BenchReplica[]> {
  const replicas: BenchReplica[] = [];
  const argv = [options.upstream, options.redisUrl, options.maxEntryAge, options.build, "admin"];
  for (let i = 0; i < options.count; i++)
    replicas.push(await spawnChild<BenchReplica>("bench-sidecar-child.ts", argv));
  if (options.redisUrl !== "" && options.maxEntryAge !== "0s") await waitForL1Channel(replicas);
  return replicas;
}

export async function scrape(replica: BenchReplica): Promise<string> {
  const response = await fetch(`${replica.adminUrl}/metrics`);
  if (!response.ok) throw new Error(`${replica.adminUrl}/metrics answered ${response.status}`);
  return response.text();
}

/** The sum of every series of one metric (a counter, or a histogram's `_count`) on one replica. */
export async function metricTotal(replica: BenchReplica, name: string): Promise<number> {
  return sumMetric(await scrape(replica), name).total;
}

/**
 * Waits until every replica's L1 invalidation channel is armed (ADR 0018): until then L1 serves
 * nothing and every hit would be a Redis hit.
 */
export async function waitForL1Channel(replicas: readonly BenchReplica[]): Promise<void> {
  for (const replica of replicas) {
    await waitFor(
      `the L1 invalidation channel of ${replica.url}`,
      async () => (await metricTotal(replica, "apicache_l1_invalidation_channel_up")) >= 1,
      { timeoutMs: 15_000, intervalMs: 50 },
    );
  }
}
