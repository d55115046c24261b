/**
 * Child process of the sidecar benchmark: one sidecar (the programmatic `startSidecar`) in its own
 * process, as in a pod. argv: upstream URL, Redis URL ("" for none), maxEntryAge ("1s", "0s"), the
 * sidecar build to import (sidecar-bench.ts passes a checkout's tsc output, `sidecar/dist/index.js`),
 * and optionally "admin" for an admin listener on loopback (its /metrics; bench-multi reads them).
 * Logs only warnings (the benchmark measures the data path, not log shipping). Reports `{ url, adminUrl }`.
 */
import pino from "pino";
import { benchKeyPrefix } from "./bench-policy.js";

const [upstream = "", redisUrl = "", maxEntryAge = "1s", build = "../dist/index.js", admin = ""] =
  process.argv.slice(2);
const { startSidecar } = (await import(build)) as typeof import("../src/index.js");

const policy = `
apiVersion: apicache.io/v1alpha1
kind: CachePolicy
metadata: { name: bench, namespace: bench }
spec:
  selector: { matchLabels: { app: bench } }
  upstream: { port: 8080 }
  store:
    redis:
      urlSecretRef: { name: bench-redis, key: url }
      keyPrefix: ${benchKeyPrefix(maxEntryAge)}
      commandTimeout: 50ms
    memory: { maxBytes: 64Mi, maxEntryAge: ${maxEntryAge} }
  routes:
    - name: items
      path: /items/:id
      ttl: 5m
      tags: ["item:{id}"]
    - name: live
      path: /live/:id
      ttl: 5m
      tags: ["live"]
`;

const sidecar = await startSidecar({
  policy,
  policyOrigin: "sidecar-bench",
  upstream,
  ...(redisUrl === "" ? {} : { redisUrl }),
  admin: admin === "admin" ? { host: "127.0.0.1", port: 0 } : false,
  warm: false,
  logger: pino({ level: "warn" }),
});
process.send?.({ url: sidecar.url, adminUrl: sidecar.adminUrl });
process.on("disconnect", () => {
  void sidecar.close({ drainMs: 1_000 }).finally(() => process.exit(0));
});
