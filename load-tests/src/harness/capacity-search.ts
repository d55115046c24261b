/**
 * The capacity search of `make bench-capacity` (issue #16), pure: the probe is passed in. For one path
 * (the API directly, or through the sidecar) it finds the highest open-model arrival rate whose probe
 * passes (p95 within the SLO, no failed request): first a ladder of rates (start, start x factor, …, up
 * to maxRate), then bisection between the last rate that held and the first that did not, until they
 * are within `resolution` (relative) of each other. The k6 capacity scenario runs the same ladder
 * (load-tests/k6/lib/capacity.ts; load-tests/src/k6-capacity.test.ts checks they agree).
 */
export interface SearchPlan {
  readonly start: number;
  readonly factor: number;
  readonly maxRate: number;
  /** Stop bisecting when (failed - held) / held is at most this (0.1: within 10%). */
  readonly resolution: number;
  /** The lowest rate tried when even the start fails. */
  readonly minRate: number;
}

export interface ProbeVerdict {
  readonly pass: boolean;
}

export interface SearchResult<P extends ProbeVerdict> {
  /** The highest rate that held; 0 when not even minRate did. */
  readonly capacity: number;
  /** The capacity is the ladder's top (maxRate): the path may carry more. */
  readonly capped: boolean;
  /** The lowest rate that did not hold, if any. */
  readonly firstFailed?: number;
  readonly probes: readonly { readonly rate: number; readonly result: P }[];
}

/** Rates go in steps of 0.01/s: k6 needs whole iterations per timeUnit (its capacity script uses 100 s). */
export const roundRate = (rate: number): number => Math.max(0.01, Math.round(rate * 100) / 100);

/** The ladder's rates: start, start x factor, …, the last one clamped to maxRate. */
export function ladder(plan: Pick<SearchPlan, "start" | "factor" | "maxRate">): number[] {
  if (!(plan.factor > 1)) throw new RangeError("the ladder's factor must be above 1");
  const rates: number[] = [];
  for (let rate = plan.start; ; rate *= plan.factor) {
    const next = roundRate(Math.min(rate, plan.maxRate));
    if (rates.at(-1) !== next) rates.push(next);
    if (rate >= plan.maxRate) return rates;
  }
}

export async function searchCapacity<P extends ProbeVerdict>(
  plan: SearchPlan,
  probe: (rate: number) => Promise<P>,
): Promise<SearchResult<P>> {
  const probes: { rate: number; result: P }[] = [];
  const tryRate = async (rate: number) => {
    const result = await probe(rate);
    probes.push({ rate, result });
    return result.pass;
  };
  let { held, failed } = await climb(ladder(plan), tryRate);
  if (failed === undefined) return { capacity: held ?? 0, capped: true, probes };
  if (held === undefined) ({ held, failed } = await stepDown(plan, failed, tryRate));
  if (held === undefined) return { capacity: 0, capped: false, firstFailed: failed, probes };
  while ((failed - held) / held > plan.resolution) {
    const mid = roundRate((held + failed) / 2);
    if (mid <= held || mid >= failed) break;
    if (await tryRate(mid)) held = mid;
    else failed = mid;
  }
  return { capacity: held, capped: false, firstFailed: failed, probes };
}

type TryRate = (rate: number) => Promise<boolean>;

/** Up the ladder until a rate fails. */
async function climb(rates: readonly number[], tryRate: TryRate) {
  let held: number | undefined;
  for (const rate of rates) {
    if (!(await tryRate(rate))) return { held, failed: rate };
    held = rate;
  }
  return { held, failed: undefined };
}

/** Even the start failed: down by the factor until a rate holds or minRate fails. */
async function stepDown(plan: SearchPlan, failed: number, tryRate: TryRate) {
  for (
    let rate = roundRate(failed / plan.factor);
    rate >= plan.minRate;
    rate = roundRate(rate / plan.factor)
  ) {
    if (await tryRate(rate)) return { held: rate as number | undefined, failed };
    failed = rate;
    if (rate === plan.minRate) break;
  }
  return { held: undefined, failed };
}

/** The verdict of a judged window (the k6 capacity thresholds say the same; k6-capacity.test.ts). */
export function holds(input: { p95: number; failed: number; sloMs: number; maxFailed: number }): boolean {
  return input.p95 <= input.sloMs && input.failed <= input.maxFailed;
}

/**
 * Whether a probe's nearest-rank p95 is already certain to exceed the SLO: more than 5% of its planned
 * requests took (or failed) longer. The probe stops issuing then (an overloaded path would otherwise
 * queue for the rest of the window and drain for minutes).
 */
export function certainToMiss(input: {
  readonly planned: number;
  readonly late: number;
  readonly failed: number;
  readonly maxFailed: number;
}): boolean {
  if (input.failed > input.maxFailed) return true;
  const allowedLate = input.planned - Math.ceil(0.95 * input.planned);
  return input.late > allowedLate;
}
