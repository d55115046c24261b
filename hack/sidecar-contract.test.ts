import { SIDECAR_FLAGS, sidecarUsage } from "@apicache/crds";
import { FLAGS as OPERATOR_FLAGS } from "@apicache/operator/flags";
import { type InjectOptions, injectSidecar } from "@apicache/operator/inject/inject-sidecar";
import { parseConfig, USAGE } from "@apicache/sidecar/config";
import { LOG_LEVELS } from "@apicache/sidecar/telemetry/logger";
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { bookingPod, policy } from "../operator/test/fixtures.js";

/**
 * The operator and the sidecar agree (issue #17): the container the operator injects starts a sidecar
 * that accepts every flag and variable it is given, as the sidecar's own parser reads them. Both sides
 * take their flags from crds/src/sidecar-flags.ts; this is the end-to-end check that they do.
 */
const options: InjectOptions = {
  image: "ghcr.io/apicache/sidecar:0.1.0",
  version: "0.1.0",
  nativeSidecar: true,
  configHash: "sha256:abc",
};

function injectedSidecar(pod: V1Pod, opts: Partial<InjectOptions>, redis: boolean): V1Container {
  const result = injectSidecar(pod, policy({ redis }), { ...options, ...opts });
  if (!result.injected) throw new Error(`not injected: ${result.reason}`);
  const all = [...(result.pod.spec?.initContainers ?? []), ...(result.pod.spec?.containers ?? [])];
  return all.find((c) => c.name === "apicache-sidecar") as V1Container;
}

/** The sidecar's environment as the kubelet would set it (a secretKeyRef resolved to a value). */
function resolvedEnv(container: V1Container): Record<string, string> {
  const values: Record<string, string> = { "redis-cache/url": "redis://redis.shop:6379/0" };
  return Object.fromEntries(
    (container.env ?? []).map((e) => {
      const ref = e.valueFrom?.secretKeyRef;
      return [e.name, e.value ?? values[`${ref?.name}/${ref?.key}`] ?? "<unresolved>"];
    }),
  );
}

describe("the injected sidecar's command line", () => {
  it.each([
    ["without Redis, at the sidecar's own log level", {}, false],
    ["with Redis and a log level", { logLevel: "debug" }, true],
  ] as const)("is one the sidecar accepts: %s", (_name, opts, redis) => {
    const container = injectedSidecar(bookingPod(), opts, redis);
    const parsed = parseConfig(container.args ?? [], resolvedEnv(container));
    expect(parsed).toMatchObject({
      ok: true,
      config: {
        policyFile: "/etc/apicache/policy.yaml",
        policyConfigMap: { namespace: "shop", name: "apicache-booking-api" },
        upstream: "http://127.0.0.1:8080",
        admin: { host: "0.0.0.0", port: 9901 },
        adminTokenWait: true,
        ...(redis ? { redisUrl: "redis://redis.shop:6379/0" } : {}),
        ...("logLevel" in opts ? { logLevel: opts.logLevel } : {}),
      },
    });
  });

  it("would fail here if the operator injected a flag the sidecar does not know", () => {
    const container = injectedSidecar(bookingPod(), {}, false);
    const parsed = parseConfig([...(container.args ?? []), "--cache-everything"], {});
    expect(parsed).toMatchObject({ ok: false, problems: [expect.stringMatching(/Unknown option/)] });
  });

  it("passes only log levels the sidecar knows (--sidecar-log-level)", () => {
    const offered = OPERATOR_FLAGS.find((f) => f.name === "sidecar-log-level")?.choices ?? [];
    expect(offered.length).toBeGreaterThan(0);
    for (const level of offered)
      expect(SIDECAR_FLAGS.find((f) => f.name === "log-level")?.choices).toContain(level);
  });

  it("sets only variables the sidecar reads", () => {
    const env = injectedSidecar(bookingPod(), {}, true).env ?? [];
    expect(env.length).toBeGreaterThan(0);
    for (const { name } of env) expect(SIDECAR_FLAGS.map((f) => f.env)).toContain(name);
  });
});

describe("the sidecar's own view of the table", () => {
  it("accepts every flag of the table and reads every variable of it", () => {
    for (const flag of SIDECAR_FLAGS) {
      const argv = flag.kind === "boolean" ? [`--${flag.name}`] : [`--${flag.name}`, "x"];
      const parsed = parseConfig(argv, {});
      expect(parsed.ok ? [] : parsed.problems.join("\n"), flag.name).not.toMatch(/Unknown option/);
    }
    const parsed = parseConfig([], { APICACHE_POLICY: "/p.yaml", APICACHE_UPSTREAM: "http://u:1" });
    expect(parsed).toMatchObject({ ok: true, config: { policyFile: "/p.yaml", upstream: "http://u:1" } });
  });

  it("offers exactly the log levels its logger knows", () => {
    const levels = SIDECAR_FLAGS.find((f) => f.name === "log-level");
    expect([...(levels?.choices ?? [])].sort()).toEqual([...LOG_LEVELS].sort());
  });

  it("prints the usage the table renders", () => {
    expect(USAGE).toBe(sidecarUsage());
  });
});
