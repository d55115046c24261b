import type { Logger } from "pino";

/**
 * Whether to inject the sidecar as a native sidecar (an init container with `restartPolicy: Always`)
 * or as a regular container, from the API server's version. Pure: parses what /version returns.
 *
 * The sidecar takes over the app's named port (`http` → the sidecar, the app's becomes `app-http`), so
 * a Service with `targetPort: http` reaches the sidecar. Native sidecars are on by default from 1.29
 * (SidecarContainers beta), but EndpointSlices resolve a named port on an init container only from
 * 1.32 (kubernetes/kubernetes PRs 127976 and 128850, not backported): on 1.29-1.31 such a Service gets
 * no port, and traffic to injected pods stops. So:
 *
 *   server      native sidecar   why
 *   ≤ 1.28      no               SidecarContainers off by default
 *   1.29-1.31   no               named ports on init containers get no endpoints
 *   ≥ 1.32      yes              starts before and stops after the app; named ports resolve
 *
 * `--native-sidecar=true|false` overrides the detection (docs/operator.md).
 */
export const NATIVE_SIDECAR_MIN_MINOR = 32;

export function supportsNativeSidecar(version: { major?: string; minor?: string }): boolean {
  const major = Number.parseInt(version.major ?? "", 10);
  const minor = Number.parseInt(version.minor ?? "", 10); // "31+" on some distributions
  if (Number.isNaN(major) || Number.isNaN(minor)) return false;
  return major > 1 || (major === 1 && minor >= NATIVE_SIDECAR_MIN_MINOR);
}

/** `--native-sidecar`: `auto` asks the API server's version (read by `readVersion`); plain containers when it cannot. */
export async function detectNativeSidecar(
  setting: "auto" | "true" | "false",
  readVersion: () => Promise<{ major?: string; minor?: string; gitVersion?: string }>,
  log: Pick<Logger, "info" | "warn">,
): Promise<boolean> {
  if (setting !== "auto") return setting === "true";
  try {
    const version = await readVersion();
    const native = supportsNativeSidecar(version);
    log.info({ serverVersion: version.gitVersion, nativeSidecar: native }, "detected the API server version");
    return native;
  } catch (error) {
    log.warn({ err: error }, "cannot read the server version; injecting plain sidecar containers");
    return false;
  }
}
