const MI = 1024 * 1024;

/**
 * The memory limit an injected sidecar gets when nothing sets one: twice its L1 budget
 * (`store.memory.maxBytes`) plus 160 MiB (ADR 0024). The soak measured why: an idle sidecar is
 * ~150 MiB resident (node's own pages, V8's young generation), and a full L1 adds about 1.5 resident
 * bytes per byte it counts — buffers already dropped wait for a garbage collection (V8 lets external
 * memory grow ~64 MiB between collections) and the allocator keeps what it freed. At 64 MiB that is
 * 288 MiB, where the soak peaked at 247 MiB (224 MiB once fills stopped keeping each body twice).
 * Never below 256 MiB: with a small budget the formula would leave the idle footprint and V8's garbage
 * allowance too little room (1 MiB gave 162 MiB against ~150 MiB idle under load).
 */
export const SIDECAR_MEMORY_LIMIT = { l1Factor: 2, baseBytes: 160 * MI, minBytes: 256 * MI } as const;

/** The formula as the docs, the CRD's description and the operator's help state it (a test checks them). */
export const SIDECAR_MEMORY_LIMIT_TEXT = `${SIDECAR_MEMORY_LIMIT.l1Factor} × maxBytes + ${SIDECAR_MEMORY_LIMIT.baseBytes / MI}Mi, at least ${SIDECAR_MEMORY_LIMIT.minBytes / MI}Mi`;

export function sidecarMemoryLimitBytes(l1Bytes: number): number {
  const { l1Factor, baseBytes, minBytes } = SIDECAR_MEMORY_LIMIT;
  return Math.max(l1Factor * l1Bytes + baseBytes, minBytes);
}
