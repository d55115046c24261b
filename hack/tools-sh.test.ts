import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// hack/tools.sh on a machine without Go, asked for another Kubernetes release than the pinned one: it
// once ran `go mod download` inside $(...) before checking for Go, blamed the module proxy, and then
// built with an empty module folder (the current directory).
const root = join(import.meta.dirname, "..");
const scratch = mkdtempSync(join(tmpdir(), "apicache-tools-sh-"));
const bin = join(scratch, "bin");
const toolsDir = join(scratch, "tools");
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A PATH with what the script needs besides Go: coreutils and sed, nothing else. */
function pathWithoutGo(): string {
  mkdirSync(bin);
  for (const command of [
    "sed",
    "head",
    "sha256sum",
    "cut",
    "mkdir",
    "cp",
    "rm",
    "cat",
    "dirname",
    "tr",
    "mv",
  ]) {
    const found = spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" }).stdout.trim();
    symlinkSync(found, join(bin, command));
  }
  return bin;
}

describe("hack/tools.sh without Go", () => {
  it("says Go is needed, before downloading anything or building from nowhere", () => {
    // The script's functions without its command dispatch, run as `build_kubernetes` would be by `install`.
    const script = `set -euo pipefail
source <(sed -e "s#^ROOT=.*#ROOT=${root}#" -e '/^case \${1:-} in/,$d' hack/tools.sh)
build_kubernetes`;
    const result = spawnSync("/bin/bash", ["-c", script], {
      cwd: root,
      encoding: "utf8",
      env: { HOME: scratch, PATH: pathWithoutGo(), KUBE_VERSION: "v1.31.5", APICACHE_TOOLS_DIR: toolsDir },
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      "apicache tools: Go is needed to build kubernetes v1.31.5 (install Go >= 1.25), or point KUBEBUILDER_ASSETS at a folder with kube-apiserver and etcd",
    );
    expect(existsSync(join(toolsDir, "src", "kubernetes-v1.31.5"))).toBe(false);
  });
});
