import { parseCachePolicyText, policyHash, renderSidecarConfig, revisionLine } from "@apicache/crds";
import { freePort } from "@apicache/testkit/ports";
import { waitFor } from "@apicache/testkit/wait";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConfigMapVolume, configMapVolume } from "./support/configmap-volume.js";
import { policyText, send } from "./support/harness.js";
import { runSidecar, type SidecarProcess } from "./support/sidecar-process.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

// The configuration's version (docs/adr/0014-api-evolution.md) through the apicache-sidecar binary, fed
// as in a pod: `--policy` on a kubelet-style ConfigMap volume. The operator's SidecarConfig runs; a
// newer schemaVersion is refused while the last good configuration and its cache keep serving; an
// older operator's CachePolicy manifest still runs.
const UNSUPPORTED = "APICACHE_ERR_UNSUPPORTED_CONFIG_VERSION";

/** What the operator writes for a policy caching `paths` (generation `revision`). */
function sidecarConfig(paths: string[], revision: number): string {
  const routes = paths.map((path, i) => ({ name: `r${i}`, path, ttl: "1h" }));
  const manifest = JSON.parse(policyText({ routes }));
  const parsed = parseCachePolicyText(
    JSON.stringify({ ...manifest, metadata: { ...manifest.metadata, generation: revision } }),
  );
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return renderSidecarConfig(parsed.policy, "Rendered by apicache-operator. Do not edit.");
}

/** What a later operator might write: schema version 2, with a field version 1 does not have. */
const newerConfig = (revision: number) =>
  `${revisionLine(revision)}kind: SidecarConfig\nschemaVersion: 2\npolicy: { namespace: test, name: test-api }\n` +
  "spec:\n  routes: [{ name: r0, path: /b/**, ttl: 1h }]\n  admission: { shed: 0.5 }\n";

describe("the configuration's version (the apicache-sidecar binary)", () => {
  let upstream: TestUpstream;
  let volume: ConfigMapVolume;
  let sidecar: SidecarProcess;
  let proxy: string;
  let admin: string;
  const first = sidecarConfig(["/a/**"], 1);

  beforeAll(async () => {
    upstream = await startUpstream();
    volume = await configMapVolume(first, "apicache-config-version-");
    const [port, adminPort] = [await freePort(), await freePort()];
    sidecar = runSidecar([
      ...["--policy", volume.path, "--upstream", upstream.url],
      ...["--listen", `127.0.0.1:${port}`, "--admin", `127.0.0.1:${adminPort}`],
    ]);
    await sidecar.listening();
    proxy = `http://127.0.0.1:${port}`;
    admin = `http://127.0.0.1:${adminPort}`;
  });

  afterAll(async () => {
    await sidecar?.kill();
    await upstream?.close();
    await volume?.remove();
  });

  const configHash = async () =>
    ((await (await fetch(`${admin}/readyz`)).json()) as { configHash: string }).configHash;
  const reloads = async (result: string) => {
    const text = await (await fetch(`${admin}/metrics`)).text();
    const line = text
      .split("\n")
      .find((l) => l.startsWith(`apicache_config_reloads_total{result="${result}"}`));
    return Number(line?.split(" ").at(-1));
  };

  it("starts from the operator's SidecarConfig and caches by it", async () => {
    expect(sidecar.logs().find((line) => line.msg === "apicache sidecar listening")).toMatchObject({
      format: "SidecarConfig 1",
      configHash: policyHash(first),
    });
    expect((await send(proxy, "/a/x")).cacheStatus).toContain("stored");
    expect((await send(proxy, "/a/x")).cacheStatus).toContain("hit");
    expect(upstream.count("/a/x")).toBe(1);
  });

  it("keeps serving with the last good configuration and its cache when a newer schemaVersion arrives", async () => {
    await volume.update(newerConfig(2));
    await waitFor("the refusal", () => sidecar.logs().some((line) => line.code === UNSUPPORTED), {
      timeoutMs: 15_000,
    });
    const line = sidecar.logs().find((l) => l.code === UNSUPPORTED);
    expect(line).toMatchObject({ level: "error", configHash: policyHash(first) });
    expect(String(line?.msg)).toContain("SidecarConfig schemaVersion 2 is not one this sidecar reads (1)");
    expect(String(line?.msg)).toContain("keeping the last good one");
    expect(await reloads("failure")).toBe(1);
    expect(await configHash()).toBe(policyHash(first));
    // Still running, still caching by the old rules, nothing dropped.
    expect((await send(proxy, "/a/x")).cacheStatus).toContain("hit");
    expect(upstream.count("/a/x")).toBe(1);
    expect((await send(proxy, "/b/x")).cacheStatus).toContain("no-route");
  });

  it("runs an older operator's CachePolicy manifest (apicache.io/v1alpha1), and keeps the cache", async () => {
    const manifest =
      revisionLine(3) +
      policyText({
        routes: [
          { name: "r0", path: "/a/**", ttl: "1h" },
          { name: "r1", path: "/b/**", ttl: "1h" },
        ],
      });
    await volume.update(manifest);
    await waitFor("the manifest to apply", async () => (await configHash()) === policyHash(manifest), {
      timeoutMs: 15_000,
    });
    expect(sidecar.logs().find((line) => line.msg === "policy reloaded")).toMatchObject({
      format: "CachePolicy apicache.io/v1alpha1",
    });
    expect((await send(proxy, "/b/y")).cacheStatus).toContain("stored");
    expect((await send(proxy, "/a/x")).cacheStatus).toContain("hit");
    expect(upstream.count("/a/x")).toBe(1);
  });

  it("refuses to start on a version it does not read (nothing to fall back on), exiting 1 with the code", async () => {
    const newer = await configMapVolume(newerConfig(1), "apicache-config-version-start-");
    try {
      const refused = runSidecar([
        ...["--policy", newer.path, "--upstream", upstream.url],
        ...["--listen", `127.0.0.1:${await freePort()}`, "--admin", `127.0.0.1:${await freePort()}`],
      ]);
      expect(await refused.exited).toBe(1);
      expect(refused.logs().find((line) => line.level === "fatal")).toMatchObject({ code: UNSUPPORTED });
    } finally {
      await newer.remove();
    }
  });
});
