import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A directory laid out as the kubelet lays out a ConfigMap volume — `policy.yaml -> ..data/policy.yaml`,
 * `..data -> ..<version>` — and updated as the kubelet updates it: a new version directory, then an
 * atomic swap of the `..data` symlink.
 */
export interface ConfigMapVolume {
  readonly dir: string;
  /** `<dir>/policy.yaml`: what `--policy` names in a pod. */
  readonly path: string;
  update(text: string): Promise<void>;
  remove(): Promise<void>;
}

export async function configMapVolume(text: string, prefix = "apicache-volume-"): Promise<ConfigMapVolume> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  let version = 1;
  await mkdir(join(dir, "..v1"));
  await writeFile(join(dir, "..v1", "policy.yaml"), text);
  await symlink("..v1", join(dir, "..data"));
  await symlink(join("..data", "policy.yaml"), join(dir, "policy.yaml"));
  return {
    dir,
    path: join(dir, "policy.yaml"),
    async update(next: string) {
      version += 1;
      await mkdir(join(dir, `..v${version}`));
      await writeFile(join(dir, `..v${version}`, "policy.yaml"), next);
      await symlink(`..v${version}`, join(dir, "..data_tmp"));
      await rename(join(dir, "..data_tmp"), join(dir, "..data"));
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
