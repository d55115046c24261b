/**
 * The scenario sampler for k6: self-contained (k6 scripts cannot import the harness's Node modules),
 * kept in step with load-tests/src/sampler.ts by load-tests/src/k6.test.ts, which runs both on the
 * same scenario files. No k6 or Node imports here.
 */
export type ParamSpec =
  | { kind: "int"; min: number; max: number }
  | { kind: "zipf"; min: number; max: number; exponent: number }
  | { kind: "choice"; values: (string | number)[]; weights?: number[] }
  | { kind: "day"; minOffset: number; maxOffset: number }
  | { kind: "sequence" };

export interface RequestTemplate {
  name: string;
  endpoint: string;
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  weight: number;
  headers?: Record<string, string>;
  body?: unknown;
  check?: { read: string | null; kind: "version" | "slot-taken"; item?: string };
  takes?: "createdAppointmentId";
  gives?: "createdAppointmentId";
}

export interface Scenario {
  name: string;
  description: string;
  arrivalRate: number;
  durationSeconds: number;
  warmupSeconds: number;
  primeCache: boolean;
  writeRatio: number;
  seed: number;
  params: Record<string, ParamSpec>;
  reads: RequestTemplate[];
  writes: RequestTemplate[];
}

export interface Request {
  name: string;
  endpoint: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  template: RequestTemplate;
  values: Record<string, string | number>;
}

/** The dataset's "today" (load-tests/src/demo-api/schema.ts ANCHOR_DATE). */
export const ANCHOR_DATE = "2025-07-28";

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function cumulative(weights: number[]): (r: number) => number {
  const sums: number[] = [];
  let total = 0;
  for (const w of weights) {
    total += w;
    sums.push(total);
  }
  return (r) => {
    const x = r * total;
    let i = 0;
    while (i < sums.length - 1 && (sums[i] as number) <= x) i++;
    return i;
  };
}

export function dayFromAnchor(offset: number): string {
  return new Date(Date.parse(`${ANCHOR_DATE}T00:00:00Z`) + offset * 86_400_000).toISOString().slice(0, 10);
}

function drawer(spec: ParamSpec, random: () => number, counter: { n: number }): () => string | number {
  switch (spec.kind) {
    case "int":
      return () => spec.min + Math.floor(random() * (spec.max - spec.min + 1));
    case "zipf": {
      const pick = cumulative(
        Array.from({ length: spec.max - spec.min + 1 }, (_, k) => 1 / (k + 1) ** spec.exponent),
      );
      return () => spec.min + pick(random());
    }
    case "choice": {
      const pick = cumulative(spec.weights ?? spec.values.map(() => 1));
      return () => spec.values[pick(random())] as string | number;
    }
    case "day":
      return () =>
        dayFromAnchor(spec.minOffset + Math.floor(random() * (spec.maxOffset - spec.minOffset + 1)));
    case "sequence":
      return () => ++counter.n;
  }
}

export function fill(value: unknown, values: Record<string, string | number>): unknown {
  if (typeof value === "string") {
    const whole = /^\{([A-Za-z][A-Za-z0-9]*)\}$/.exec(value);
    if (whole && (whole[1] as string) in values) return values[whole[1] as string];
    return value.replace(/\{([A-Za-z][A-Za-z0-9]*)\}/g, (m, name: string) =>
      name in values ? String(values[name]) : m,
    );
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, values));
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fill(v, values);
    return out;
  }
  return value;
}

function concrete(template: RequestTemplate, values: Record<string, string | number>): Request {
  const request: Request = {
    name: template.name,
    endpoint: template.endpoint,
    method: template.method,
    path: fill(template.path, values) as string,
    headers: fill(template.headers ?? {}, values) as Record<string, string>,
    template,
    values,
  };
  if (template.body !== undefined) request.body = JSON.stringify(fill(template.body, values));
  return request;
}

export interface Sampler {
  next(): Request;
  give(id: number): void;
}

/** Draws requests like the harness: write with probability writeRatio, then a template by weight. */
export function createSampler(scenario: Scenario, seed: number): Sampler {
  const random = mulberry32(seed);
  const counter = { n: 0 };
  const draws = Object.entries(scenario.params).map(
    ([name, spec]) => [name, drawer(spec, random, counter)] as const,
  );
  const pickRead = cumulative(scenario.reads.map((r) => r.weight));
  const pickWrite = cumulative(scenario.writes.map((w) => w.weight));
  const giver = scenario.writes.find((w) => w.gives);
  const pool: number[] = [];
  return {
    next() {
      const values: Record<string, string | number> = {};
      for (const [name, draw] of draws) values[name] = draw();
      if (scenario.writes.length === 0 || random() >= scenario.writeRatio) {
        return concrete(scenario.reads[pickRead(random())] as RequestTemplate, values);
      }
      let template = scenario.writes[pickWrite(random())] as RequestTemplate;
      if (template.takes) {
        if (pool.length > 0)
          values.createdAppointmentId = pool.splice(Math.floor(random() * pool.length), 1)[0] as number;
        else if (giver) template = giver;
      }
      return concrete(template, values);
    },
    give(id) {
      pool.push(id);
    },
  };
}

function domain(spec: ParamSpec): (string | number)[] {
  switch (spec.kind) {
    case "int":
    case "zipf":
      return Array.from({ length: spec.max - spec.min + 1 }, (_, i) => spec.min + i);
    case "choice":
      return spec.values.filter((_, i) => (spec.weights?.[i] ?? 1) > 0);
    case "day":
      return Array.from({ length: spec.maxOffset - spec.minOffset + 1 }, (_, i) =>
        dayFromAnchor(spec.minOffset + i),
      );
    case "sequence":
      return [];
  }
}

/** Every distinct read of the scenario (what priming requests once). */
export function readKeySpace(scenario: Scenario): Request[] {
  const out: Request[] = [];
  for (const template of scenario.reads) {
    const names = (
      JSON.stringify([template.path, template.headers ?? {}]).match(/\{[A-Za-z][A-Za-z0-9]*\}/g) ?? []
    ).map((p) => p.slice(1, -1));
    let combos: Record<string, string | number>[] = [{}];
    for (const name of names.filter((n, i) => names.indexOf(n) === i)) {
      const values = domain(scenario.params[name] as ParamSpec);
      combos = combos.flatMap((c) => values.map((v) => ({ ...c, [name]: v })));
    }
    for (const values of combos) out.push(concrete(template, values));
  }
  return out;
}

/** Whether a read after a write shows the old data (see load-tests/src/harness/checks.ts). */
export function isStale(
  kind: "version" | "slot-taken",
  item: string | undefined,
  written: unknown,
  read: unknown,
): boolean {
  const w = (written ?? {}) as Record<string, unknown>;
  const r = (read ?? {}) as Record<string, unknown>;
  if (kind === "version") {
    const list = item ? r[item] : undefined;
    const source = item
      ? Array.isArray(list)
        ? (list as Record<string, unknown>[]).find((x) => x.id === w.id)
        : undefined
      : r;
    return typeof w.version === "number" && typeof source?.version === "number" && source.version < w.version;
  }
  const time = typeof w.startsAt === "string" ? w.startsAt.slice(11, 16) : "";
  const slots = Array.isArray(r.slots) ? (r.slots as Record<string, unknown>[]) : [];
  return time !== "" && slots.some((slot) => slot.time === time);
}
