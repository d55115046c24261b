import { createRandom, type Random, weightedSampler, zipfSampler } from "./demo-api/prng.js";
import { ANCHOR_DATE } from "./demo-api/schema.js";
import type { EndpointType, ParamSpec, Scenario, ScenarioRequest } from "./scenario.js";

/**
 * Turns a scenario into concrete requests: pure and seeded, so the direct run and the run through the
 * sidecar issue the same request stream. Also enumerates the read key space (for cache priming).
 */
export interface ConcreteRequest {
  readonly name: string;
  readonly endpoint: EndpointType | "write";
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly template: ScenarioRequest;
  readonly values: Readonly<Record<string, string | number>>;
}

type Value = string | number;
type Draw = (random: Random) => Value;

const DAY_MS = 86_400_000;

export function dayFromAnchor(offset: number): string {
  return new Date(Date.parse(`${ANCHOR_DATE}T00:00:00Z`) + offset * DAY_MS).toISOString().slice(0, 10);
}

function drawer(spec: ParamSpec, counter: { n: number }): Draw {
  switch (spec.kind) {
    case "int":
      return (random) => random.int(spec.min, spec.max);
    case "zipf":
      return zipfSampler(spec.min, spec.max, spec.exponent);
    case "choice": {
      const pick = weightedSampler(spec.weights ?? spec.values.map(() => 1));
      return (random) => spec.values[pick(random)] as Value;
    }
    case "day":
      return (random) => dayFromAnchor(random.int(spec.minOffset, spec.maxOffset));
    case "sequence":
      return () => ++counter.n;
  }
}

/** Every value a param can take (for priming); a sequence has none. */
export function paramDomain(spec: ParamSpec): Value[] {
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

/** Replaces `{name}` placeholders; a string that is exactly one placeholder keeps the value's type. */
export function fill(value: unknown, values: Readonly<Record<string, Value>>): unknown {
  if (typeof value === "string") {
    const whole = /^\{([A-Za-z][A-Za-z0-9]*)\}$/.exec(value);
    if (whole && (whole[1] as string) in values) return values[whole[1] as string];
    return value.replace(/\{([A-Za-z][A-Za-z0-9]*)\}/g, (m, name: string) =>
      name in values ? String(values[name]) : m,
    );
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, values));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, values)]));
  }
  return value;
}

export function concrete(
  template: ScenarioRequest,
  values: Readonly<Record<string, Value>>,
): ConcreteRequest {
  return {
    name: template.name,
    endpoint: template.endpoint,
    method: template.method,
    path: fill(template.path, values) as string,
    headers: fill(template.headers ?? {}, values) as Record<string, string>,
    ...(template.body === undefined ? {} : { body: JSON.stringify(fill(template.body, values)) }),
    template,
    values,
  };
}

export interface Sampler {
  /** The next request of the stream. */
  next(): ConcreteRequest;
  /** Feed back an id a successful `gives` write created (it may be taken by a later `takes` write). */
  give(id: number): void;
}

/**
 * Only writes, drawn from those that need no earlier write (no `takes`/`gives`: each can be sent alone,
 * any number of times) and that `keep` accepts; undefined when there are none. Write priming and the
 * write-overhead measurements use it.
 */
export function independentWriteSampler(
  scenario: Scenario,
  seed: number,
  keep: (write: ScenarioRequest) => boolean = () => true,
): Sampler | undefined {
  const writes = scenario.writes.filter((w) => !w.takes && !w.gives && keep(w));
  return writes.length === 0 ? undefined : createSampler({ ...scenario, writeRatio: 1, writes }, seed);
}

export function createSampler(scenario: Scenario, seed = scenario.seed): Sampler {
  const random = createRandom(seed);
  const counter = { n: 0 };
  const draws = Object.fromEntries(
    Object.entries(scenario.params).map(([name, spec]) => [name, drawer(spec, counter)]),
  );
  const pickRead = weightedSampler(scenario.reads.map((r) => r.weight));
  const pickWrite =
    scenario.writes.length > 0 ? weightedSampler(scenario.writes.map((w) => w.weight)) : undefined;
  const pool: number[] = [];
  const giver = scenario.writes.find((w) => w.gives);
  const drawValues = (): Record<string, Value> => {
    const values: Record<string, Value> = {};
    for (const [name, draw] of Object.entries(draws)) values[name] = draw(random);
    return values;
  };
  return {
    next: () => {
      const values = drawValues();
      if (!pickWrite || !random.chance(scenario.writeRatio)) {
        return concrete(scenario.reads[pickRead(random)] as ScenarioRequest, values);
      }
      let template = scenario.writes[pickWrite(random)] as ScenarioRequest;
      if (template.takes) {
        const id = pool.length > 0 ? pool.splice(random.int(0, pool.length - 1), 1)[0] : undefined;
        if (id === undefined && giver) template = giver;
        else if (id !== undefined) values.createdAppointmentId = id;
      }
      return concrete(template, values);
    },
    give: (id) => {
      pool.push(id);
    },
  };
}

/**
 * Every distinct read a scenario can issue (the cartesian product of the params each read template
 * uses), capped: what priming requests once so measurement starts from a warm cache.
 */
export function readKeySpace(scenario: Scenario, cap = 5000): ConcreteRequest[] {
  const out: ConcreteRequest[] = [];
  for (const template of scenario.reads) {
    const used = [
      ...new Set(
        JSON.stringify([template.path, template.headers ?? {}]).match(/\{[A-Za-z][A-Za-z0-9]*\}/g) ?? [],
      ),
    ].map((p) => p.slice(1, -1));
    let combos: Record<string, Value>[] = [{}];
    for (const name of used) {
      const domain = paramDomain(scenario.params[name] as ParamSpec);
      combos = combos.flatMap((c) => domain.map((v) => ({ ...c, [name]: v })));
      if (combos.length > cap)
        throw new RangeError(`read ${template.name} has more than ${cap} keys: narrow its params`);
    }
    out.push(...combos.map((values) => concrete(template, values)));
  }
  return out;
}
