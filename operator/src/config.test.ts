import { describe, expect, it } from "vitest";
import { parseConfig } from "./config.js";

const parse = (argv: string[], env: Record<string, string> = {}) =>
  parseConfig({ argv, env, hostname: "host" });

describe("the operator configuration", () => {
  it("has working defaults", () => {
    expect(parse([])).toMatchObject({
      namespace: "apicache-system",
      leaderElect: true,
      leaseDurationMs: 15_000,
      certMode: "self-managed",
      webhookListen: { host: "0.0.0.0", port: 9443 },
    });
  });

  it("reads flags, then environment variables, flags winning", () => {
    const config = parse(
      ["--lease-duration", "30s", "--leader-elect=false", "--webhook-url=https://127.0.0.1:9443"],
      {
        APICACHE_OPERATOR_LEASE_DURATION: "60s",
        APICACHE_OPERATOR_NAMESPACE: "ops",
      },
    );
    expect(config).toMatchObject({
      leaseDurationMs: 30_000,
      leaderElect: false,
      namespace: "ops",
      webhookUrl: "https://127.0.0.1:9443",
    });
  });

  it("lists every problem at once", () => {
    const attempt = () => parse(["--cert-mode", "vault", "--workers", "0", "--bogus"]);
    expect(attempt).toThrow(/--bogus/);
    expect(attempt).toThrow(/--cert-mode/);
    expect(attempt).toThrow(/--workers/);
  });

  it("rejects a renew deadline not shorter than the lease", () => {
    expect(() => parse(["--renew-deadline", "20s"])).toThrow(/renew-deadline must be shorter/);
  });

  it("reads the sidecar resource flags as Kubernetes quantities", () => {
    expect(parse(["--sidecar-cpu-limit=1", "--sidecar-memory-request", "96Mi"])).toMatchObject({
      sidecarCpuLimit: "1",
      sidecarMemoryRequest: "96Mi",
    });
    expect(() => parse(["--sidecar-cpu-request=half"])).toThrow(
      /--sidecar-cpu-request .* Kubernetes quantity/,
    );
  });
});
