/**
 * The demo's arrival rate, pure: from a quick unloaded calibration (each read template timed one
 * request at a time), the mean service time of the scenario's mix; the direct path, one embedded
 * Postgres working on one query at a time, cannot sustain more than 1 / that; the demo runs at a
 * fraction of it (thresholds.json capacity.demoLoadFraction), so the direct path keeps up and the table
 * measures service, not a queue. Writes are counted at the reads' mean service time.
 */
export interface DemoRate {
  /** Mean service time of one request of the mix, unloaded (ms). */
  readonly serviceMs: number;
  /** 1000 / serviceMs: the most the direct path could sustain if nothing else used the CPU. */
  readonly ceiling: number;
  readonly fraction: number;
  /** The rate the demo runs at (requests/s, one decimal). */
  readonly rate: number;
}

export function demoRate(input: {
  readonly timesMs: Readonly<Record<string, readonly number[]>>;
  readonly weights: Readonly<Record<string, number>>;
  readonly fraction: number;
}): DemoRate {
  let weighted = 0;
  let total = 0;
  for (const [name, weight] of Object.entries(input.weights)) {
    const times = input.timesMs[name];
    if (!times || times.length === 0) throw new Error(`no calibration time for ${name}`);
    weighted += weight * (times.reduce((a, b) => a + b, 0) / times.length);
    total += weight;
  }
  if (!(total > 0)) throw new Error("the demo scenario has no weighted reads");
  const serviceMs = weighted / total;
  const ceiling = 1000 / serviceMs;
  const rate = Math.max(0.1, Math.floor(ceiling * input.fraction * 10) / 10);
  return { serviceMs, ceiling, fraction: input.fraction, rate };
}

/** The demo's closing line: how far each path went in its quick probes. */
export function capacityLine(input: {
  readonly sloMs: number;
  readonly windowSeconds: number;
  readonly direct: { readonly capacity: number; readonly capped: boolean };
  readonly sidecar: { readonly capacity: number; readonly capped: boolean };
}): string {
  const at = (c: { capacity: number; capped: boolean }) => `${c.capped ? "≥ " : ""}${c.capacity} requests/s`;
  const ratio =
    input.direct.capacity > 0 && !input.direct.capped
      ? `, ${input.sidecar.capped ? "≥ " : ""}${(input.sidecar.capacity / input.direct.capacity).toFixed(1)}× the load`
      : "";
  return `Capacity (quick probes of ${input.windowSeconds} s, p95 ≤ ${input.sloMs} ms, no failed response): directly ${at(input.direct)}, through the sidecar ${at(input.sidecar)}${ratio}. \`make bench-capacity\` searches properly (longer windows, bisection).`;
}
