import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { sidecarArgs } from "./sidecar-args.js";
import { SIDECAR_FLAG_TABLE_END, sidecarFlagTable, sidecarUsage } from "./sidecar-flag-text.js";
import { SIDECAR_FLAGS, type SidecarFlag, sidecarEnvName, sidecarFlag } from "./sidecar-flags.js";

const flags: readonly SidecarFlag[] = SIDECAR_FLAGS;

describe("the sidecar's flag table", () => {
  it("names every flag and every variable once, in kebab case and APICACHE_* upper case", () => {
    expect(new Set(flags.map((f) => f.name)).size).toBe(flags.length);
    expect(new Set(flags.map((f) => f.env)).size).toBe(flags.length);
    for (const flag of flags) {
      expect(flag.name).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(flag.env).toMatch(/^APICACHE_[A-Z_]+$/);
    }
  });

  it("says for every flag what an unset one means: a default, or required, off, none…", () => {
    for (const flag of flags) expect(flag.default ?? flag.unset, flag.name).toBeTruthy();
  });

  it("gives switches neither a value placeholder nor a default, and every valued flag a placeholder", () => {
    for (const flag of flags) {
      if (flag.kind === "boolean")
        expect([flag.value, flag.default], flag.name).toEqual([undefined, undefined]);
      else expect(flag.value, flag.name).toMatch(/^[A-Z:/]+$/);
    }
  });

  it("keeps a default among a flag's choices", () => {
    for (const flag of flags.filter((f) => f.choices)) expect(flag.choices).toContain(flag.default);
  });

  it("looks flags up by name, and knows nothing else", () => {
    expect(sidecarFlag("redis")?.env).toBe("APICACHE_REDIS_URL");
    expect(sidecarEnvName("admin-token-file")).toBe("APICACHE_ADMIN_TOKEN_FILE");
    expect(sidecarFlag("bogus")).toBeUndefined();
  });
});

describe("sidecarArgs", () => {
  it("writes the flags in the order given: a value after its flag, a switch alone when on", () => {
    expect(
      sidecarArgs({
        upstream: "http://127.0.0.1:8080",
        policy: "/p.yaml",
        "admin-token-wait": true,
        "admin-insecure": false,
        "log-level": undefined,
      }),
    ).toEqual(["--upstream", "http://127.0.0.1:8080", "--policy", "/p.yaml", "--admin-token-wait"]);
  });

  it("refuses a flag the sidecar does not know, so no injected pod can carry one", () => {
    const values = { policy: "/p.yaml", "cache-everything": "yes" } as Parameters<typeof sidecarArgs>[0];
    expect(() => sidecarArgs(values)).toThrow("the sidecar has no flag --cache-everything");
  });

  it("refuses a value of the wrong kind", () => {
    expect(() => sidecarArgs({ "admin-token-wait": "yes" } as never)).toThrow("true or false");
    expect(() => sidecarArgs({ listen: true } as never)).toThrow("a string");
  });
});

describe("the flag table as text", () => {
  it("lists every flag with its variable and its default in the usage", () => {
    const usage = sidecarUsage();
    for (const flag of flags) {
      const line = usage
        .split("\n")
        .find((l) => l.trimStart().startsWith(`--${flag.name} `) || l.trim() === `--${flag.name}`);
      expect(line, flag.name).toContain(flag.env);
      expect(line, flag.name).toContain(flag.default ?? flag.unset);
    }
    expect(usage).toContain("-h, --help");
  });

  it("writes one docs row per flag, in table order, escaping nothing it does not need to", () => {
    const rows = sidecarFlagTable().split("\n").slice(2);
    expect(rows.map((row) => /^\| `--([a-z-]+)/.exec(row)?.[1])).toEqual(flags.map((f) => f.name));
    expect(rows.find((row) => row.includes("--listen"))).toBe(
      "| `--listen HOST:PORT` | `APICACHE_LISTEN` | `0.0.0.0:8080` | proxy listener |",
    );
    expect(sidecarFlagTable()).not.toContain(SIDECAR_FLAG_TABLE_END);
  });
});

describe("the contract's modules", () => {
  it.each([
    "sidecar-contract.ts",
    "sidecar-flags.ts",
    "sidecar-args.ts",
    "sidecar-flag-text.ts",
    "http-methods.ts",
  ])("%s is pure: it imports nothing but its siblings", (file) => {
    const text = readFileSync(new URL(file, import.meta.url), "utf8");
    const imports = [...text.matchAll(/\bfrom\s+["']([^"']+)["']/g)].map((m) => m[1]);
    for (const target of imports) expect(target, file).toMatch(/^\.\/[a-z-]+\.js$/);
  });
});
