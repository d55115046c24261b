import { type Cluster, Command, type Redis } from "ioredis";
import { keySlot } from "./cluster-slot.js";

/**
 * After a write's invalidation, one more round trip to every node it changed, so that Redis has
 * written the pushes of that change to every pod's invalidation connection before the write is
 * answered (ADR 0018, "The pushes leave before the reply").
 *
 * Why: Redis queues the broadcast pushes of a change in the same event-loop turn as the writer's
 * reply, but writes the turn's pending clients newest-first; a pod's invalidation connection that
 * already had output pending in that turn (a heartbeat's PONG, an earlier push) is written *after*
 * the writer. A command sent once the writer has read its reply is processed in a later turn, after
 * that whole turn's output went out: its answer proves the pushes are in the pods' sockets (unless a
 * pod's connection is so far behind that Redis could not write it: ADR 0018, "Still open").
 *
 * A GET of a key the invalidation changed (a generation, a key mark): routed to the node that pushed
 * the change, allowed by the sidecar's ACL rule (redis-acl.ts), answered nil or a short token. Sent
 * at once, not auto-pipelined: ioredis holds an auto-pipeline for a loop turn (setImmediate) and
 * behind any pipeline still running on that node, which would add both to every write.
 *
 * Every pod runs it, whether it keeps an L1 or not: the pods that read the pushes are the others, and
 * during a rollout that turns L1 on the old pods (no L1) answer writes while the new ones serve L1.
 */
export function barrierKeys(keys: readonly string[], nodeOf: (key: string) => string): string[] {
  const byNode = new Map<string, string>();
  for (const key of keys) {
    const node = nodeOf(key);
    if (!byNode.has(node)) byNode.set(node, key);
  }
  return [...byNode.values()];
}

/** Resolves once every node that holds one of `keys` has answered a command sent after now. */
export async function pushesWritten(client: Redis | Cluster, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  const nodeOf = client.isCluster ? clusterNodeOf(client as Cluster) : () => "";
  await Promise.all(
    barrierKeys(keys, nodeOf).map((key) => {
      const command = new Command("get", [key]);
      client.sendCommand(command);
      return command.promise;
    }),
  );
}

/** The master a cluster client sends a key to (its slot, when the slot map does not know it yet). */
function clusterNodeOf(cluster: Cluster): (key: string) => string {
  return (key) => {
    const slot = keySlot(key);
    return cluster.slots[slot]?.[0] ?? `slot ${slot}`;
  };
}
