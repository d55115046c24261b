import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { findDeadExports } from "./dead-exports.js";

/**
 * `make dead-code`: lists the workspaces' exports nothing uses (hack/dead-exports.ts) and exits 1 when
 * there is one. Offline; about ten seconds (one TypeScript program over the whole repository).
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Exports kept on purpose although nothing imports them, each with its reason. */
const KEPT: Readonly<Record<string, string>> = {
  "crds/src/schema.ts#StoreSpec": "the CachePolicy API's types: one per schema, for the package's users",
  "crds/src/schema.ts#SidecarResourcesSpec": "the CachePolicy API's types: one per schema",
  "crds/src/schema.ts#HttpMethod": "the CachePolicy API's types: one per schema",
  "crds/src/policy.ts#Identity": "the normalized policy's types: one per part of the spec",
  "operator/src/index.ts#Config": "the operator package's entry: the type parseConfig returns",
};

const dead = findDeadExports({
  root,
  tsconfig: join(root, "tsconfig.json"),
  judged: (file) => /^[a-z-]+\/src\//.test(file) && !file.endsWith(".test.ts"),
}).filter((found) => KEPT[`${found.file}#${found.name}`] === undefined);

for (const found of dead) console.log(`${found.file}: ${found.name}`);
console.log(
  dead.length === 0
    ? "no dead exports"
    : `${dead.length} exports nothing uses (remove them, or add them to KEPT in hack/dead-code.ts with a reason)`,
);
process.exitCode = dead.length === 0 ? 0 : 1;
