import pino from "pino";
import { describe, expect, it } from "vitest";
import type { CacheEntry } from "../http-cache/entry.js";
import { encodeEntry } from "../http-cache/entry-codec.js";
import { MemoryStore } from "../store/memory-store.js";
import { EntryReader } from "./entry-reader.js";

function entry(body: Buffer): CacheEntry {
  return {
    status: 200,
    headers: ["content-type", "application/json"],
    body,
    storedAt: 1_000,
    initialAgeSeconds: 0,
    freshMs: 60_000,
    staleWhileRevalidateMs: 0,
    staleIfErrorMs: 0,
    tags: ["item:1"],
    vary: [],
  };
}

/** What a fill does: encode, remember the decoded form, store the bytes (L1). */
function fill(size: number) {
  const store = new MemoryStore({ maxBytes: 1_000_000 });
  const reader = new EntryReader(store, pino({ level: "silent" }));
  const body = Buffer.alloc(size, 7); // the body the fill collected from the upstream
  const filled = entry(body);
  const bytes = encodeEntry(filled);
  reader.remember(bytes, filled);
  store.put("k", bytes, { ttlMs: 60_000, tags: ["item:1"] });
  return { store, reader, body, filled };
}

describe("entry reader", () => {
  describe.each([
    ["a body of 16 KiB", 16_384],
    ["a body smaller than Node's buffer pool's half", 200],
  ])("when a fill stored an entry with %s", (_, size) => {
    it("hands back the remembered entry without decoding it again", async () => {
      const { store, reader, body, filled } = fill(size);
      const stored = store.lookup("k")?.value as Buffer;
      const read = await reader.read("k", []);
      expect(read?.body.equals(body)).toBe(true);
      expect(read?.body.buffer).toBe(stored.buffer);
      // Decoding would have parsed the headers into a new array.
      expect(read?.headers).toBe(filled.headers);
    });

    it("keeps no buffer alive but the bytes L1 counts (not the fill's collected body too)", async () => {
      const { store, reader, body } = fill(size);
      const read = await reader.read("k", []);
      expect(read?.body.buffer).not.toBe(body.buffer);
      expect(read?.body.buffer.byteLength).toBe(store.lookup("k")?.value.length);
    });
  });
});
