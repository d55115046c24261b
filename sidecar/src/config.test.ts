import { describe, expect, it } from "vitest";
import { parseConfig } from "./config.js";

const required = ["--policy", "p.yaml", "--upstream", "http://127.0.0.1:8080"];

describe("parseConfig", () => {
  it("applies defaults", () => {
    expect(parseConfig(required, {})).toEqual({
      ok: true,
      config: {
        policyFile: "p.yaml",
        upstream: "http://127.0.0.1:8080",
        listen: { host: "0.0.0.0", port: 8080 },
        admin: { host: "127.0.0.1", port: 9901 },
        adminTokenWait: false,
        adminInsecure: false,
        logLevel: "info",
        shutdownDelayMs: 5_000,
        drainTimeoutMs: 20_000,
        upstreamConnections: { fill: 64, write: 32, pass: 128 },
        upstreamQueueTimeoutMs: 5_000,
        clientWriteTimeoutMs: 30_000,
      },
    });
  });

  it("takes the upstream lanes as whole numbers and their waits as durations, listing every problem", () => {
    const parsed = parseConfig([...required, "--upstream-pass-connections", "512"], {
      APICACHE_UPSTREAM_QUEUE_TIMEOUT: "250ms",
      APICACHE_CLIENT_WRITE_TIMEOUT: "1m",
    });
    expect(parsed.ok && parsed.config.upstreamConnections).toEqual({ fill: 64, write: 32, pass: 512 });
    expect(parsed.ok && [parsed.config.upstreamQueueTimeoutMs, parsed.config.clientWriteTimeoutMs]).toEqual([
      250, 60_000,
    ]);
    expect(
      parseConfig([...required, "--upstream-fill-connections", "0", "--upstream-queue-timeout", "soon"], {}),
    ).toEqual({
      ok: false,
      problems: [
        '--upstream-fill-connections must be a whole number from 1 to 10000 (got "0")',
        '--upstream-queue-timeout must be a duration such as 5s or 500ms (got "soon")',
      ],
    });
  });

  it("takes the shutdown delay and drain timeout as durations, rejecting anything else", () => {
    const parsed = parseConfig([...required, "--shutdown-delay", "1500ms"], { APICACHE_DRAIN_TIMEOUT: "1m" });
    expect(parsed.ok && [parsed.config.shutdownDelayMs, parsed.config.drainTimeoutMs]).toEqual([
      1_500, 60_000,
    ]);
    expect(parseConfig([...required, "--shutdown-delay", "5"], {})).toEqual({
      ok: false,
      problems: ['--shutdown-delay must be a duration such as 5s or 500ms (got "5")'],
    });
  });

  it("reads every flag", () => {
    const result = parseConfig(
      [
        ...required,
        "--listen=[::1]:9000",
        "--redis",
        "redis+sentinel://a:1,b:2/mymaster",
        "--admin",
        "0.0.0.0:9901",
        "--admin-token-file",
        "/t",
        "--policy-configmap",
        "shop/apicache-booking",
        "--kubeconfig",
        "/k",
        "--log-level",
        "debug",
      ],
      {},
    );
    expect(result).toMatchObject({
      ok: true,
      config: {
        listen: { host: "::1", port: 9000 },
        redisUrl: "redis+sentinel://a:1,b:2/mymaster",
        admin: { host: "0.0.0.0", port: 9901 },
        adminTokenFile: "/t",
        policyConfigMap: { namespace: "shop", name: "apicache-booking" },
        kubeconfig: "/k",
        logLevel: "debug",
      },
    });
  });

  describe("the admin API's credential flags", () => {
    it("reads --admin-token-wait and --admin-insecure, as flags or as true/false variables", () => {
      const wait = parseConfig([...required, "--admin-token-file", "/t", "--admin-token-wait"], {});
      expect(wait).toMatchObject({ ok: true, config: { adminTokenFile: "/t", adminTokenWait: true } });
      const insecure = parseConfig(required, { APICACHE_ADMIN_INSECURE: "true" });
      expect(insecure).toMatchObject({ ok: true, config: { adminInsecure: true } });
      expect(parseConfig(required, { APICACHE_ADMIN_INSECURE: "yes" })).toEqual({
        ok: false,
        problems: ['APICACHE_ADMIN_INSECURE must be true or false (got "yes")'],
      });
    });

    it("rejects --admin-token-wait without a file, and a token file together with --admin-insecure", () => {
      expect(parseConfig([...required, "--admin-token-wait"], {})).toEqual({
        ok: false,
        problems: ["--admin-token-wait needs --admin-token-file FILE"],
      });
      expect(parseConfig([...required, "--admin-insecure", "--admin-token-file", "/t"], {})).toEqual({
        ok: false,
        problems: ["--admin-insecure and --admin-token-file contradict each other: choose one"],
      });
    });
  });

  it("takes every flag from APICACHE_* variables, flags winning", () => {
    const result = parseConfig(["--log-level", "warn"], {
      APICACHE_POLICY: "/etc/apicache/policy.yaml",
      APICACHE_UPSTREAM: "http://127.0.0.1:3000",
      APICACHE_REDIS_URL: "redis://r:6379/1",
      APICACHE_LOG_LEVEL: "debug",
    });
    expect(result).toMatchObject({
      ok: true,
      config: { policyFile: "/etc/apicache/policy.yaml", redisUrl: "redis://r:6379/1", logLevel: "warn" },
    });
  });

  it.each([
    "redis://r:6379/1",
    "rediss://r",
    "redis+cluster://a:1,b:2",
    "rediss+cluster://a:1",
    "redis+sentinel://a:1,b:2/mymaster",
    "rediss+sentinel://a:1/mymaster",
  ])("accepts --redis %s", (redisUrl) => {
    expect(parseConfig([...required, "--redis", redisUrl], {})).toMatchObject({
      ok: true,
      config: { redisUrl },
    });
  });

  it.each(["http://x", "redis://", "redis+sentinel://"])("refuses --redis %s", (redisUrl) => {
    expect(parseConfig([...required, "--redis", redisUrl], {})).toMatchObject({ ok: false });
  });

  it("lists every problem at once", () => {
    const result = parseConfig(["--listen", "nope", "--log-level", "loud", "--redis", "http://x"], {});
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.problems).toEqual([
      "--policy FILE (or --policy-configmap NS/NAME) is required",
      "--upstream URL is required, e.g. --upstream http://127.0.0.1:8080",
      "--redis must start with redis://, rediss://, redis+cluster://, rediss+cluster://, redis+sentinel://, rediss+sentinel://",
      'log-level must be one of fatal, error, warn, info, debug, trace, silent (got "loud")'.replace(
        /^/,
        "--",
      ),
      '--listen must be HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080 (got "nope")',
    ]);
  });

  it.each([
    [["--bogus"], /Unknown option '--bogus'/],
    [[...required, "--upstream", "ftp://x"], /--upstream must be an http:\/\/ URL/],
    [[...required, "--policy-configmap", "no-slash"], /--policy-configmap must be NAMESPACE\/NAME/],
    [[...required, "--listen", "1.2.3.4:70000"], /--listen must be HOST:PORT/],
  ])("rejects %j", (argv, message) => {
    const result = parseConfig(argv, {});
    expect(result.ok ? "" : result.problems.join("\n")).toMatch(message);
  });

  it("asks for help", () => {
    expect(parseConfig(["-h"], {})).toEqual({ ok: false, problems: [], help: true });
  });
});
