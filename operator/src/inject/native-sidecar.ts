/**
 * Native sidecars (an initContainer with restartPolicy Always) are on by default from Kubernetes
 * 1.29 (SidecarContainers beta). Pure: parses what /version returns.
 */
export function supportsNativeSidecar(version: { major?: string; minor?: string }): boolean {
  const major = Number.parseInt(version.major ?? "", 10);
  const minor = Number.parseInt(version.minor ?? "", 10); // "29+" on some distributions
  if (Number.isNaN(major) || Number.isNaN(minor)) return false;
  return major > 1 || (major === 1 && minor >= 29);
}
