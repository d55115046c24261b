/**
 * Child process of `make bench-multi`: a Redis connection armed the way each sidecar arms its
 * invalidation channel (store/invalidation-channel.ts: RESP2, `CLIENT TRACKING on REDIRECT <own id>
 * BCAST PREFIX …`, subscribed to `__redis__:invalidate`). It timestamps every push on arrival
 * (`performance.timeOrigin + performance.now()`, comparable across processes) and sends it to the
 * parent. Its own process, idle but for this, so a busy parent does not delay the timestamps.
 * argv: Redis URL, key prefix. Sends `{ ready: true }`, then `{ at, invalidation }` per push.
 */
import { Redis } from "ioredis";
import { INVALIDATION_CHANNEL, trackingArguments } from "../src/store/invalidation-channel.js";
import { parseInvalidation } from "../src/store/l1-coherence.js";

const [redisUrl = "", keyPrefix = ""] = process.argv.slice(2);
const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, protocol: 2 });
await client.connect();
client.on("messageBuffer", (channel: Buffer, message: unknown) => {
  const at = performance.timeOrigin + performance.now();
  if (channel.toString() !== INVALIDATION_CHANNEL) return;
  const invalidation = parseInvalidation(keyPrefix, message);
  if (invalidation !== undefined) process.send?.({ at, invalidation });
});
const id = (await client.client("ID")) as number;
await client.call("CLIENT", ...trackingArguments(keyPrefix, id));
await client.subscribe(INVALIDATION_CHANNEL);
process.send?.({ ready: true });
process.on("disconnect", () => {
  client.disconnect();
  process.exit(0);
});
