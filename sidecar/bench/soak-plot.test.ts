import { describe, expect, it } from "vitest";
import { renderSoakSvg } from "./soak-plot.js";
import type { SoakSample } from "./soak-verdict.js";

const MiB = 1024 * 1024;
const samples: SoakSample[] = [0, 3_000, 6_000, 9_000].map((at, i) => ({
  at,
  rssBytes: (100 + i) * MiB,
  rssAnonBytes: 60 * MiB,
  heapUsedBytes: 40 * MiB,
  fds: 30 + i,
  sockets: 20,
  loopP99Ms: 1 + i,
  l1Bytes: 64 * MiB,
}));

const svg = renderSoakSvg({
  title: "make soak <test> & co",
  samples,
  faults: [{ kind: "redis-killed", at: 4_500, until: 7_500, recoverMs: 300 }],
  runMs: 9_000,
  warmUpEndMs: 1_800,
  rssBoundMiB: 128,
  loopBoundMs: 10,
});

describe("the soak's plot", () => {
  it("is one self-contained SVG document (no script, no external reference)", () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg).not.toMatch(/<script|href=|url\(/);
  });

  it("names itself for screen readers with an escaped title (make lint checks the committed plot)", () => {
    expect(svg).toContain('role="img">\n<title>make soak &lt;test&gt; &amp; co</title>');
  });

  it("draws each series as a line through every sample", () => {
    const lines = [...svg.matchAll(/<polyline points="([^"]+)"/g)].map((m) => (m[1] ?? "").split(" "));
    // RSS, its anonymous part, heap, L1; descriptors, sockets; event-loop p99.
    expect(lines).toHaveLength(7);
    for (const points of lines) expect(points).toHaveLength(samples.length);
  });

  it("places time on x and values on y: a rising series goes up the panel", () => {
    const [rss] = [...svg.matchAll(/<polyline points="([^"]+)"/g)].map((m) =>
      (m[1] ?? "").split(" ").map((p) => p.split(",").map(Number)),
    );
    const xs = (rss ?? []).map(([x]) => x as number);
    const ys = (rss ?? []).map(([, y]) => y as number);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    expect(ys[3]).toBeLessThan(ys[0] as number);
  });

  it("marks each fault with a dashed line in every panel and its name on the axis", () => {
    expect(svg.match(/class="fault"/g)).toHaveLength(3);
    expect(svg).toContain(">redis-killed</text>");
  });

  it("draws the RSS and event-loop bounds and labels the units", () => {
    expect(svg).toContain("RSS bound 128");
    expect(svg).toContain("bound 10 ms");
    expect(svg).toContain("memory (MiB)");
    expect(svg).toContain("open descriptors");
  });

  it("escapes text", () => {
    expect(svg).toContain("make soak &lt;test&gt; &amp; co");
  });
});
