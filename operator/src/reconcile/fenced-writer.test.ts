import { describe, expect, it } from "vitest";
import { fencedWriter, NotLeadingError } from "./fenced-writer.js";
import type { AppliedObject, ClusterWriter } from "./reconciler.js";

function recording() {
  const writes: string[] = [];
  const writer: ClusterWriter = {
    apply: async () => {
      writes.push("apply");
    },
    create: async () => {
      writes.push("create");
      return "created";
    },
    patchStatus: async () => {
      writes.push("status");
      return "1";
    },
    event: async () => {
      writes.push("event");
    },
  };
  return { writer, writes };
}

const object = {
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "x", namespace: "n" },
} as AppliedObject;

describe("fencedWriter", () => {
  describe("while the term lasts", () => {
    it("passes every write through", async () => {
      const { writer, writes } = recording();
      const fenced = fencedWriter(writer, new AbortController().signal);
      await fenced.apply(object);
      await fenced.create(object);
      await fenced.patchStatus("n", "p", {} as never);
      expect(writes).toEqual(["apply", "create", "status"]);
    });
  });

  describe("once the term ended", () => {
    it("sends nothing and says the replica no longer leads", async () => {
      const { writer, writes } = recording();
      const term = new AbortController();
      const fenced = fencedWriter(writer, term.signal);
      term.abort();
      await expect(fenced.apply(object)).rejects.toBeInstanceOf(NotLeadingError);
      await expect(fenced.create(object)).rejects.toBeInstanceOf(NotLeadingError);
      await expect(fenced.patchStatus("n", "p", {} as never)).rejects.toBeInstanceOf(NotLeadingError);
      await expect(fenced.event({} as never, {} as never)).rejects.toBeInstanceOf(NotLeadingError);
      expect(writes).toEqual([]);
    });
  });
});
