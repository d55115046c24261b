import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { repoRoot } from "../kube/tools.js";
import { benchJobArgs, benchJobManifest, withFlags } from "./bench-job-manifest.js";

const text = readFileSync(join(repoRoot, "load-tests", "cluster", "bench-job.yaml"), "utf8");
const names = (manifest: string) =>
  parseAllDocuments(manifest).map(
    (d) => (d.toJS() as { kind: string; metadata: { name: string } }).metadata.name,
  );

describe("the bench Job's manifest", () => {
  it("holds the direct Service and the Job, which runs the full run against both Services by default", () => {
    expect(names(benchJobManifest(text))).toEqual(["demo-api-direct", "apicache-bench"]);
    const args = benchJobArgs(text);
    expect(args).toEqual(
      expect.arrayContaining([
        "--direct",
        "http://demo-api-direct.apicache-demo.svc.cluster.local",
        "--sidecar",
        "http://demo-api.apicache-demo.svc.cluster.local",
      ]),
    );
  });

  it("gives the Job other harness arguments, and nothing else changes", () => {
    const short = withFlags(benchJobArgs(text), {
      "--duration": "20",
      "--scenarios": "read-only",
      "--prime-writes": "0",
    });
    const manifest = benchJobManifest(text, short);
    expect(benchJobArgs(manifest)).toEqual(short);
    expect(short.slice(short.indexOf("--duration"), short.indexOf("--duration") + 2)).toEqual([
      "--duration",
      "20",
    ]);
    expect(short.slice(-2)).toEqual(["--prime-writes", "0"]);
    expect(benchJobManifest(manifest)).toBe(manifest);
    expect(manifest.replace(/args:[\s\S]*?resources:/, "")).toBe(
      benchJobManifest(text).replace(/args:[\s\S]*?resources:/, ""),
    );
  });

  it("refuses a manifest without the harness container", () => {
    expect(() => benchJobManifest("kind: Service\n")).toThrow(/no Job with a container "harness"/);
  });
});
