import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { KubeTestkitError } from "../kube/errors.js";
import { requireTool, type ToolPaths } from "../kube/tools.js";
import type { ClusterLayout } from "./layout.js";
import { runInNode } from "./mount-namespace.js";
import { nodeNetnsPath } from "./network.js";
import { containerdSocketInNode } from "./node-config.js";

/** The images the node's containerd runs: there is no registry, every image is imported from an archive. */
export function sandboxImage(tools: ToolPaths): { ref: string; archive: string } {
  const pause = requireTool("pause", tools);
  const version = /pause-([0-9a-f]+)\//.exec(pause)?.[1] ?? "dev";
  return { ref: `docker.io/apicache/pause:${version}`, archive: join(pause, "..", "pause.oci.tar") };
}

/** The archives `make images` wrote (hack/images.sh), or an error that says to run it. */
export function imageArchives(imagesDir: string): string[] {
  const dir = join(imagesDir, "archives");
  const archives = existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => name.endsWith(".tar"))
        .map((name) => join(dir, name))
    : [];
  if (archives.length === 0) {
    throw new KubeTestkitError(
      "APICACHE_ERR_TOOL_MISSING",
      `no image archives in ${dir}: run \`make images\` (builds the sidecar, operator, demo API and Redis images)`,
    );
  }
  return archives.sort();
}

/** Import image archives (OCI or docker-archive tars) into the node's containerd, for its pods. */
export function importImages(layout: ClusterLayout, archives: readonly string[]): void {
  for (const archive of archives) {
    const result = runInNode(layout, nodeNetnsPath(layout), [
      "ctr",
      `--address=${containerdSocketInNode}`,
      "--namespace=k8s.io",
      "images",
      "import",
      archive,
    ]);
    if (result.code !== 0) {
      throw new KubeTestkitError(
        "APICACHE_ERR_CLUSTER_STATE",
        `importing ${archive} into the node's containerd failed: ${result.stderr.trim() || result.stdout.trim()}`,
      );
    }
  }
}
