import { type Static, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";

/**
 * Load scenarios as data (load-tests/scenarios/*.json), shared by the local harness and the k6 scripts.
 * A scenario is an open-model workload: requests arrive at `arrivalRate` per second whatever the
 * responses do; each arrival is a write with probability `writeRatio`, then a request template drawn
 * by weight from `reads` or `writes`, with `{param}` placeholders drawn from `params`.
 */
const ParamSchema = Type.Union([
  Type.Object(
    { kind: Type.Literal("int"), min: Type.Integer({ minimum: 1 }), max: Type.Integer({ minimum: 1 }) },
    { additionalProperties: false, description: "Uniform integer in [min, max]." },
  ),
  Type.Object(
    {
      kind: Type.Literal("zipf"),
      min: Type.Integer({ minimum: 1 }),
      max: Type.Integer({ minimum: 1 }),
      exponent: Type.Number({ minimum: 0, maximum: 4 }),
    },
    {
      additionalProperties: false,
      description: "Skewed integer: min + k - 1 has weight 1/k^exponent (hot keys).",
    },
  ),
  Type.Object(
    {
      kind: Type.Literal("choice"),
      values: Type.Array(Type.Union([Type.String(), Type.Number()]), { minItems: 1 }),
      weights: Type.Optional(Type.Array(Type.Number({ minimum: 0 }), { minItems: 1 })),
    },
    { additionalProperties: false, description: "One of the values, uniformly or by weight." },
  ),
  Type.Object(
    { kind: Type.Literal("day"), minOffset: Type.Integer(), maxOffset: Type.Integer() },
    {
      additionalProperties: false,
      description: "A date YYYY-MM-DD, offset in days from the dataset's anchor date.",
    },
  ),
  Type.Object(
    { kind: Type.Literal("sequence") },
    { additionalProperties: false, description: "1, 2, 3, … per run: makes each write's body unique." },
  ),
]);

const NAME = Type.String({ pattern: "^[a-z0-9][a-z0-9-]*$", maxLength: 63 });
const PATH = Type.String({ pattern: "^/", maxLength: 512 });

export const ENDPOINT_TYPES = ["slots", "analytics", "dashboard", "profile", "catalog"] as const;

const CheckSchema = Type.Object(
  {
    read: Type.Union([PATH, Type.Null()], {
      description: "What to read right after the write succeeded (same params; null: no check).",
    }),
    kind: Type.Union([Type.Literal("version"), Type.Literal("slot-taken")], {
      description:
        "version: the read shows a version >= the write's (in `item`'s element with the written id, if set). slot-taken: the booked start time is no longer a free slot.",
    }),
    item: Type.Optional(
      Type.String({ description: "Array field of the read body holding the written resource." }),
    ),
  },
  { additionalProperties: false },
);

const RequestSchema = Type.Object(
  {
    name: NAME,
    endpoint: Type.Union([...ENDPOINT_TYPES.map((t) => Type.Literal(t)), Type.Literal("write")]),
    method: Type.Union([
      Type.Literal("GET"),
      Type.Literal("POST"),
      Type.Literal("PUT"),
      Type.Literal("DELETE"),
    ]),
    path: PATH,
    weight: Type.Number({ exclusiveMinimum: 0 }),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    body: Type.Optional(
      Type.Unknown({ description: "JSON body; string values may hold {param} placeholders." }),
    ),
    check: Type.Optional(CheckSchema),
    /** Writes that need an id this run created (e.g. cancel): the pool it is taken from. */
    takes: Type.Optional(Type.Literal("createdAppointmentId")),
    /** Writes whose response id feeds a pool. */
    gives: Type.Optional(Type.Literal("createdAppointmentId")),
  },
  { additionalProperties: false },
);

export const ScenarioSchema = Type.Object(
  {
    name: NAME,
    description: Type.String(),
    arrivalRate: Type.Number({ exclusiveMinimum: 0, maximum: 10_000, description: "Requests per second." }),
    durationSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 3600 }),
    warmupSeconds: Type.Number({ minimum: 0, maximum: 3600 }),
    primeCache: Type.Boolean({
      description:
        "Before the warm-up, read every key of the (finite) read key space once through the path under test.",
    }),
    writeRatio: Type.Number({ minimum: 0, maximum: 1 }),
    seed: Type.Integer({ minimum: 0 }),
    params: Type.Record(Type.String({ pattern: "^[A-Za-z][A-Za-z0-9]*$" }), ParamSchema),
    reads: Type.Array(RequestSchema, { minItems: 1 }),
    writes: Type.Array(RequestSchema),
  },
  { additionalProperties: false },
);

export type Scenario = Static<typeof ScenarioSchema>;
export type ScenarioRequest = Static<typeof RequestSchema>;
export type ParamSpec = Static<typeof ParamSchema>;
export type EndpointType = (typeof ENDPOINT_TYPES)[number];

export type ScenarioResult =
  | { readonly ok: true; readonly scenario: Scenario }
  | { readonly ok: false; readonly problems: readonly string[] };

/** Validates a parsed scenario file: the schema, then what a schema cannot say. */
export function parseScenario(input: unknown): ScenarioResult {
  if (!Value.Check(ScenarioSchema, input)) {
    const problems = [...Value.Errors(ScenarioSchema, input)].map((e) => `${e.path || "/"}: ${e.message}`);
    return { ok: false, problems: [...new Set(problems)].slice(0, 20) };
  }
  const problems = semanticProblems(input);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, scenario: input };
}

export function parseScenarioText(text: string): ScenarioResult {
  try {
    return parseScenario(JSON.parse(text));
  } catch (error) {
    return { ok: false, problems: [`not valid JSON: ${(error as Error).message}`] };
  }
}

/** The `{name}` placeholders of a template string. */
export function placeholders(template: string): string[] {
  return [...template.matchAll(/\{([A-Za-z][A-Za-z0-9]*)\}/g)].map((m) => m[1] as string);
}

function templateStrings(request: ScenarioRequest): string[] {
  const strings = [request.path, ...Object.values(request.headers ?? {})];
  if (request.check?.read) strings.push(request.check.read);
  const walk = (value: unknown): void => {
    if (typeof value === "string") strings.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === "object" && value !== null) Object.values(value).forEach(walk);
  };
  walk(request.body);
  return strings;
}

function paramProblems(scenario: Scenario): string[] {
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(scenario.params)) {
    if ((spec.kind === "int" || spec.kind === "zipf") && spec.min > spec.max)
      problems.push(`params.${name}: min > max`);
    if (spec.kind === "day" && spec.minOffset > spec.maxOffset)
      problems.push(`params.${name}: minOffset > maxOffset`);
    if (spec.kind === "choice" && spec.weights && spec.weights.length !== spec.values.length) {
      problems.push(`params.${name}: weights must be as many as values`);
    }
  }
  return problems;
}

function requestProblems(
  request: ScenarioRequest,
  at: string,
  isRead: boolean,
  known: ReadonlySet<string>,
): string[] {
  const problems: string[] = [];
  if (isRead !== (request.method === "GET")) problems.push(`${at}: reads must be GET and writes must not be`);
  if (isRead === (request.endpoint === "write")) problems.push(`${at}: endpoint "write" is for writes only`);
  for (const name of templateStrings(request).flatMap(placeholders)) {
    if (!known.has(name)) problems.push(`${at}: placeholder {${name}} is not a param`);
  }
  return problems;
}

function semanticProblems(scenario: Scenario): string[] {
  const problems = paramProblems(scenario);
  const names = new Set<string>();
  const known = new Set([...Object.keys(scenario.params), "createdAppointmentId"]);
  for (const [group, list] of [
    ["reads", scenario.reads],
    ["writes", scenario.writes],
  ] as const) {
    for (const [i, request] of list.entries()) {
      const at = `${group}[${i}] (${request.name})`;
      if (names.has(request.name)) problems.push(`${at}: duplicate request name`);
      names.add(request.name);
      problems.push(...requestProblems(request, at, group === "reads", known));
    }
  }
  if (scenario.writeRatio > 0 && scenario.writes.length === 0)
    problems.push("writeRatio > 0 needs at least one write");
  if (scenario.writes.some((w) => w.takes) && !scenario.writes.some((w) => w.gives)) {
    problems.push("a write takes createdAppointmentId but no write gives it");
  }
  return problems;
}
