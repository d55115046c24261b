import { describe, expect, it } from "vitest";
import { judgeSlotClaim, parseSlotRecord, slotTakenMessage } from "./slot-claim.js";

describe("who may use a slot", () => {
  const a = "/tmp/clusters/a";
  const b = "/tmp/clusters/b";

  it("lets any directory take a slot nobody recorded", () => {
    expect(judgeSlotClaim(undefined, b, false)).toBe("free");
  });

  it("lets the recorded directory use its own slot, running or not", () => {
    expect(judgeSlotClaim({ dir: a }, a, false)).toBe("ours");
    expect(judgeSlotClaim({ dir: a }, a, true)).toBe("ours");
  });

  it("refuses another directory while the owner's cluster lives", () => {
    expect(judgeSlotClaim({ dir: a }, b, true)).toBe("taken");
  });

  it("lets another directory take over from an owner none of whose processes runs", () => {
    expect(judgeSlotClaim({ dir: a }, b, false)).toBe("stale");
  });

  it("names the owner and the way out in the refusal", () => {
    expect(slotTakenMessage(5, a, b)).toBe(
      "slot 5 belongs to the running cluster in /tmp/clusters/a, not to /tmp/clusters/b: nothing was changed. " +
        "Use another slot (--slot N), or stop that cluster first (cli.ts down --dir /tmp/clusters/a --slot 5)",
    );
  });
});

describe("a slot record", () => {
  it("reads the owner and, while it starts, the starting process", () => {
    expect(parseSlotRecord('{"dir":"/x"}')).toEqual({ dir: "/x" });
    expect(parseSlotRecord('{"dir":"/x","starting":{"pid":42,"startTime":"1234"}}')).toEqual({
      dir: "/x",
      starting: { pid: 42, startTime: "1234" },
    });
  });

  it("counts an unreadable record as none", () => {
    for (const text of ["", "{", '{"dir":""}', '{"dir":7}', "[]"])
      expect(parseSlotRecord(text)).toBeUndefined();
  });
});
