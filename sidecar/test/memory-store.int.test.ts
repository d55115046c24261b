import { MemoryStore } from "../src/store/memory-store.js";
import { TieredStore } from "../src/store/tiered-store.js";
import { describeStoreContract } from "./store-contract.js";

// The in-process stores against the shared contract: memory alone, and tiered with a memory L2
// (the Redis-backed runs live in redis-store.int.test.ts and redis-cluster-store.int.test.ts).
const MAX_BYTES = 16 * 1024 * 1024;

describeStoreContract("memory", () => new MemoryStore({ maxBytes: MAX_BYTES }), { sharedBackend: false });

describeStoreContract(
  "tiered (memory over memory)",
  () =>
    new TieredStore({
      l1: new MemoryStore({ maxBytes: MAX_BYTES }),
      l2: new MemoryStore({ maxBytes: MAX_BYTES }),
      maxEntryAgeMs: 1_000,
    }),
  { sharedBackend: false },
);
