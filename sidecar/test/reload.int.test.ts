import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sidecar, startSidecar } from "../src/index.js";
import { FilePolicySource } from "../src/reload/file-source.js";
import { type ConfigMapVolume, configMapVolume } from "./support/configmap-volume.js";
import { captureLogs, eventually, metricValue, policyText, send } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

// Acceptance item 9: hot reload from the policy file within 1 s, no dropped request, invalid rejected.
const v1 = policyText({ routes: [{ name: "cached", path: "/a/**" }] });
const v2 = policyText({ routes: [{ name: "cached", path: "/b/**" }] });

describe("hot reload of the policy file", () => {
  let volume: ConfigMapVolume;
  let upstream: TestUpstream;
  let sidecar: Sidecar;
  const logs = captureLogs();

  beforeAll(async () => {
    volume = await configMapVolume(v1, "apicache-reload-");
    upstream = await startUpstream();
    const file = new FilePolicySource(volume.path, logs.logger, {
      debounceMs: 50,
      pollMs: 5_000,
    });
    file.seed(v1);
    sidecar = await startSidecar({
      policy: v1,
      upstream: upstream.url,
      logger: logs.logger,
      sources: [file],
      warm: false,
    });
  });

  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
    await volume?.remove();
  });

  it("applies new rules within 1 s of a ConfigMap-style swap, without dropping a request", async () => {
    expect((await send(sidecar.url, "/b/x")).cacheStatus).toContain("no-route");
    let failures = 0;
    let running = true;
    const load = (async () => {
      while (running) {
        const answer = await send(sidecar.url, "/a/load").catch(() => undefined);
        if (answer?.status !== 200) failures++;
      }
    })();
    const swapped = Date.now();
    await volume.update(v2);
    await eventually(
      async () => (await send(sidecar.url, "/b/x")).cacheStatus.includes("stored"),
      1_000,
      "the new rules",
    );
    const tookMs = Date.now() - swapped;
    running = false;
    await load;
    expect(tookMs).toBeLessThan(1_000);
    expect(failures).toBe(0);
    expect(sidecar.policy().hash).toMatch(/^sha256:/);
    expect(await metricValue(sidecar, "apicache_config_reloads_total", { result: "success" })).toBe(1);
    expect(await metricValue(sidecar, "apicache_config_info", { config_hash: sidecar.policy().hash })).toBe(
      1,
    );
  });

  it("rejects an invalid file with one log line naming each problem, and keeps the last good policy", async () => {
    const goodHash = sidecar.policy().hash;
    const invalid = policyText({ routes: [{ name: "Bad Name", path: "no-slash", ttl: "forever" }] });
    await volume.update(invalid);
    await eventually(
      async () => (await metricValue(sidecar, "apicache_config_reloads_total", { result: "failure" })) === 1,
      2_000,
      "the rejection",
    );
    const line = logs.lines.find((l) => l.code === "APICACHE_ERR_INVALID_POLICY");
    expect(line?.level).toBe("error");
    expect(String(line?.msg)).toContain("spec.routes[0].name");
    expect(String(line?.msg)).toContain("spec.routes[0].path");
    expect(String(line?.msg)).toContain("spec.routes[0].ttl");
    expect(String(line?.msg)).toContain("keeping the last good one");
    expect(sidecar.policy().hash).toBe(goodHash);
    expect((await send(sidecar.url, "/b/y")).cacheStatus).toContain("stored");
  });

  it("rejects a file that is not YAML at all", async () => {
    await volume.update("{ this is: [not yaml");
    await eventually(
      async () => (await metricValue(sidecar, "apicache_config_reloads_total", { result: "failure" })) === 2,
      2_000,
      "the rejection",
    );
    expect((await send(sidecar.url, "/b/z")).cacheStatus).toContain("stored");
  });

  it("also picks up an in-place write of a plain file", async () => {
    const plainDir = await mkdtemp(join(tmpdir(), "apicache-reload-plain-"));
    const path = join(plainDir, "policy.yaml");
    await writeFile(path, v1);
    const file = new FilePolicySource(path, logs.logger, { debounceMs: 20 });
    const seen: string[] = [];
    file.start((text) => seen.push(text));
    try {
      await writeFile(path, v2);
      await eventually(() => seen.includes(v2), 1_000, "the change");
    } finally {
      file.stop();
      await rm(plainDir, { recursive: true, force: true });
    }
  });
});
