import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

/**
 * The pure core does no I/O (issue #17): `make lint` (biome ci) refuses node:http, node:net's sockets,
 * ioredis, undici and @kubernetes/client-node's API classes in the pure folders (biome.json,
 * ADR 0029). Proven against the repository's own biome.json: probe files laid out as the repository
 * is, in a scratch directory, linted with that configuration.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const biome = join(root, "node_modules", ".bin", "biome");
const scratch = mkdtempSync(join(tmpdir(), "apicache-pure-core-"));
const config = JSON.parse(readFileSync(join(root, "biome.json"), "utf8"));
config.$schema = undefined;
config.vcs = { enabled: false };
writeFileSync(join(scratch, "biome.json"), JSON.stringify(config));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const PROBE = [
  'import { createServer } from "node:http";',
  'import { isIP, Socket } from "node:net";',
  'import { CoreV1Api, type V1Pod } from "@kubernetes/client-node";',
  'import Redis from "ioredis";',
  'import { request } from "undici";',
  "",
  "export const used = [createServer, isIP, Socket, CoreV1Api, Redis, request];",
  "export type Pod = V1Pod;",
  "",
].join("\n");

/** The `line:column` of each restricted import biome reports for a probe at `path`. */
function restricted(path: string, probe = PROBE): string[] {
  const file = join(scratch, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, probe);
  let output: string;
  try {
    output = execFileSync(biome, ["lint", "--config-path", scratch, "--max-diagnostics=50", file], {
      cwd: scratch,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    output = `${failed.stdout ?? ""}${failed.stderr ?? ""}`;
  }
  return [...output.matchAll(/\.ts:(\d+:\d+) lint\/style\/noRestrictedImports/g)].map((m) => m[1] as string);
}

const PURE = [
  "sidecar/src/http-cache",
  "sidecar/src/keys",
  "sidecar/src/routing",
  "operator/src/inject",
  "operator/src/policy",
  "operator/src/status",
  "crds/src",
];

describe("the pure-core import rule", () => {
  it.each(PURE)(
    "refuses I/O imports in %s and allows node:net's isIP and client-node's V1 types",
    (folder) => {
      // Lines 1–5: http, net's Socket (not isIP), CoreV1Api (not V1Pod), ioredis, undici.
      expect(restricted(`${folder}/probe.ts`)).toEqual(["1:30", "2:16", "3:10", "4:19", "5:25"]);
    },
  );

  it("covers certificate issuance, not the certificate Secret's API edge", () => {
    expect(restricted("operator/src/certs/issue.ts")).toHaveLength(5);
    expect(restricted("operator/src/certs/self-managed-certs.ts")).toEqual([]);
  });

  it("leaves the edges (the proxy, the store, the operator's kube adapters) free to do I/O", () => {
    for (const edge of ["sidecar/src/proxy", "sidecar/src/store", "operator/src/kube"])
      expect(restricted(`${edge}/probe.ts`)).toEqual([]);
  });

  it("refuses express, the edges' HTTP framework (ADR 0030), in the pure folders and not at the edges", () => {
    const probe = 'import express from "express";\n\nexport const used = express;\n';
    for (const folder of PURE) expect(restricted(`${folder}/express-probe.ts`, probe)).toEqual(["1:21"]);
    for (const edge of ["sidecar/src/admin", "operator/src/webhook", "operator/src/server"])
      expect(restricted(`${edge}/express-probe.ts`, probe)).toEqual([]);
  });
});
