import { describe, expect, it } from "vitest";
import { parseJobConfig } from "./job-config.js";

const targets = ["--direct", "http://direct.ns.svc", "--sidecar", "http://api.ns.svc"];

describe("the bench Job's flags", () => {
  it("runs read-only and mixed against the two targets, 100 primed writes, by default", () => {
    expect(parseJobConfig(targets)).toEqual({
      ok: true,
      config: {
        directUrl: "http://direct.ns.svc",
        sidecarUrl: "http://api.ns.svc",
        scenarios: ["read-only", "mixed"],
        primeWrites: 100,
        overrides: {},
      },
    });
  });

  it("takes a shorter run's overrides", () => {
    const result = parseJobConfig([
      ...targets,
      "--scenarios",
      "read-only",
      "--duration",
      "20",
      "--warmup",
      "3",
      "--rate",
      "5",
      "--prime-writes",
      "0",
    ]);
    expect(result.ok && result.config).toMatchObject({
      scenarios: ["read-only"],
      primeWrites: 0,
      overrides: { durationSeconds: 20, warmupSeconds: 3, arrivalRate: 5 },
    });
  });

  it("lists every problem: missing target, a URL that is not http, bad numbers", () => {
    const result = parseJobConfig(["--sidecar", "https://api", "--rate", "0", "--prime-writes", "1.5"]);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.problems).toEqual([
        '--prime-writes must be a whole number >= 0 (got "1.5")',
        "--direct is required",
        "--sidecar must be an http:// URL (got https://api)",
        '--rate must be a positive number (got "0")',
      ]);
  });

  it("refuses an unknown flag and answers --help", () => {
    expect(parseJobConfig([...targets, "--store", "redis"]).ok).toBe(false);
    expect(parseJobConfig(["--help"])).toEqual({ ok: false, problems: [], help: true });
  });
});
