import { describe, expect, it } from "vitest";
import { flameSvg, stackTree } from "./hotpath-flame.js";
import {
  areaOf,
  type CpuProfile,
  foldStacks,
  frameLabel,
  selfByArea,
  shortUrl,
  topSelf,
} from "./hotpath-profile.js";

const frame = (functionName: string, url = "", lineNumber = 0) => ({ functionName, url, lineNumber });

/** root → (idle); root → handle → writeEntry; root → handle → writev (native). */
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame("(root)"), children: [2, 3] },
    { id: 2, callFrame: frame("(idle)") },
    { id: 3, callFrame: frame("handle", "file:///w/sidecar/dist/proxy/handler.js", 39), children: [4, 5] },
    { id: 4, callFrame: frame("writeEntry", "file:///w/sidecar/dist/proxy/respond.js", 12) },
    { id: 5, callFrame: frame("writev") },
  ],
  samples: [2, 3, 4, 4, 5, 5, 5, 2],
  timeDeltas: [10, 10, 10, 10, 10, 10, 10, 10],
  startTime: 1000,
};

describe("a .cpuprofile", () => {
  describe("its frame labels", () => {
    it("shorten paths to the workspace, the package or node's module", () => {
      expect(shortUrl("file:///work/x/sidecar/dist/proxy/handler.js")).toBe("sidecar/dist/proxy/handler.js");
      expect(shortUrl("file:///work/x/node_modules/prom-client/lib/histogram.js")).toBe(
        "prom-client/lib/histogram.js",
      );
      expect(shortUrl("node:_http_server")).toBe("node:_http_server");
    });

    it("name the function and its 1-based line, or the pseudo frame alone", () => {
      expect(frameLabel(frame("handle", "file:///w/sidecar/dist/proxy/handler.js", 39))).toBe(
        "handle sidecar/dist/proxy/handler.js:40",
      );
      expect(frameLabel(frame("", "node:events", 0))).toBe("(anonymous) node:events:1");
      expect(frameLabel(frame("(garbage collector)"))).toBe("(garbage collector)");
    });
  });

  describe("folded", () => {
    it("counts each stack's samples, root left out, idle left out unless asked", () => {
      const folded = foldStacks(profile);
      expect([...folded]).toEqual([
        ["handle sidecar/dist/proxy/handler.js:40;writev", 3],
        ["handle sidecar/dist/proxy/handler.js:40;writeEntry sidecar/dist/proxy/respond.js:13", 2],
        ["handle sidecar/dist/proxy/handler.js:40", 1],
      ]);
      expect(foldStacks(profile, { idle: true }).get("(idle)")).toBe(2);
    });

    it("keeps only the samples within a window of the clock", () => {
      // Samples at 1010, 1020, …, 1080: the window 1025–1055 holds the 3rd to the 5th (4, 4, 5).
      const folded = foldStacks(profile, { window: { fromUs: 1025, toUs: 1055 } });
      expect([...folded.values()].reduce((a, b) => a + b, 0)).toBe(3);
      expect(folded.get("handle sidecar/dist/proxy/handler.js:40;writev")).toBe(1);
    });
  });

  describe("self time", () => {
    it("ranks leaves by samples over the busy ones", () => {
      const top = topSelf(foldStacks(profile));
      expect(top[0]).toEqual({ frame: "writev", samples: 3, share: 0.5 });
      expect(top.map((t) => t.samples)).toEqual([3, 2, 1]);
    });

    it("groups leaves by where they live", () => {
      expect(areaOf("writeEntry sidecar/dist/proxy/respond.js:13")).toBe("sidecar/proxy");
      expect(areaOf("observe prom-client/lib/histogram.js:232")).toBe("prom-client");
      expect(areaOf("end node:_http_outgoing:1034")).toBe("node:_http_outgoing");
      expect(areaOf("writev")).toBe("(native)");
      expect(selfByArea(foldStacks(profile))).toEqual([
        { frame: "(native)", samples: 3, share: 0.5 },
        { frame: "sidecar/proxy", samples: 3, share: 0.5 },
      ]);
    });
  });

  describe("as a flame graph", () => {
    it("nests stacks under one root with inclusive counts", () => {
      const root = stackTree(foldStacks(profile));
      expect(root.samples).toBe(6);
      expect(root.children.get("handle sidecar/dist/proxy/handler.js:40")?.samples).toBe(6);
    });

    it("draws one rectangle per frame, as wide as its share, its label escaped", () => {
      const svg = flameSvg(
        new Map([
          ["a;b<c>", 3],
          ["a", 1],
        ]),
        { title: "t & u" },
      );
      expect(svg.match(/<rect x=/g)).toHaveLength(2 + 1); // all, a, b<c>
      expect(svg).toContain("b&lt;c&gt; (3 samples, 75.00%)");
      expect(svg).toContain("t &amp; u");
    });
  });
});
