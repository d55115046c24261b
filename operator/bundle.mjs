// The operator as its image runs it: one minified ES module, operator/dist/bundle/apicache-operator.mjs,
// bundled from the tsc build (operator/dist/main.js) with every dependency. Node keeps the source text
// of each loaded module in the heap: the unbundled operator holds about 37 MiB of it (most of it
// @kubernetes/client-node's 25 MB of JavaScript), the bundle about 12 MiB (docs/adr/0017).
// Run after `tsc -p operator/tsconfig.json`: node operator/bundle.mjs
import { build } from "esbuild";

const here = new URL(".", import.meta.url);

await build({
  entryPoints: [new URL("dist/main.js", here).pathname],
  outfile: new URL("dist/bundle/apicache-operator.mjs", here).pathname,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // Whitespace and syntax minified, identifiers not: error and class names stay readable in logs and
  // stack traces without `keepNames`, whose `__name(fn, "…")` wrapper runs each time a named closure
  // is created — 3 s of the operator's CPU in a full `make bench-operator` (ADR 0017, section 6).
  minifyWhitespace: true,
  minifySyntax: true,
  // CommonJS dependencies call require(); an ES module has none of its own.
  banner: {
    js: "import { createRequire as __apicacheRequire } from 'node:module'; const require = __apicacheRequire(import.meta.url);",
  },
  logLevel: "warning",
});
