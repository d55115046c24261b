/**
 * When to rotate the webhook certificates, pure: a certificate is renewed once `fraction` (default
 * 2/3) of its lifetime has passed, so a third of it is left as margin for every replica to load the
 * new one. Times in epoch milliseconds.
 */
export interface Validity {
  readonly notBefore: number;
  readonly notAfter: number;
}

export const DEFAULT_ROTATION_FRACTION = 2 / 3;

export function renewAt(validity: Validity, fraction = DEFAULT_ROTATION_FRACTION): number {
  return validity.notBefore + Math.floor((validity.notAfter - validity.notBefore) * fraction);
}

export function rotationDue(validity: Validity, now: number, fraction = DEFAULT_ROTATION_FRACTION): boolean {
  return now >= renewAt(validity, fraction);
}

/** Milliseconds until the next check: the renewal time, bounded to [minMs, maxMs]. */
export function nextCheckIn(
  validities: readonly Validity[],
  now: number,
  bounds: { readonly minMs: number; readonly maxMs: number; readonly fraction?: number },
): number {
  const soonest = Math.min(...validities.map((v) => renewAt(v, bounds.fraction)));
  return Math.max(bounds.minMs, Math.min(bounds.maxMs, soonest - now));
}

export type ReissueDecision =
  | { readonly action: "keep" }
  | { readonly action: "new-ca"; readonly reason: string }
  | { readonly action: "new-serving"; readonly reason: string };

export interface StoredCerts {
  readonly ca: Validity;
  readonly serving: Validity & { readonly names: readonly string[] };
}

/** What the leader must do with the certificates it found (or did not find) in the Secret. */
export function reissueDecision(
  stored: StoredCerts | undefined,
  wantNames: readonly string[],
  now: number,
  fraction = DEFAULT_ROTATION_FRACTION,
): ReissueDecision {
  if (!stored) return { action: "new-ca", reason: "no certificate stored yet" };
  if (rotationDue(stored.ca, now, fraction))
    return { action: "new-ca", reason: "the CA is due for rotation" };
  if (rotationDue(stored.serving, now, fraction)) {
    return { action: "new-serving", reason: "the serving certificate is due for rotation" };
  }
  const missing = wantNames.filter((name) => !stored.serving.names.includes(name));
  if (missing.length > 0) {
    return { action: "new-serving", reason: `the serving certificate lacks ${missing.join(", ")}` };
  }
  return { action: "keep" };
}
