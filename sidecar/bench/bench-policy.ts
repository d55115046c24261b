/** The Redis key prefix of bench-sidecar-child.ts's policy: one per maxEntryAge, so its sets never share entries. */
export function benchKeyPrefix(maxEntryAge: string): string {
  return `bench/max-entry-age-${maxEntryAge}`;
}
