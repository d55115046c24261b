/**
 * Request-body validation for the demo API's writes: pure functions from parsed JSON to a typed value
 * or a list of problems (reported as one 400).
 */
export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problems: readonly string[] };

export interface CreateAppointment {
  readonly barberId: number;
  readonly clientId: number;
  readonly serviceId: number;
  readonly date: string;
  /** HH:MM; absent: the first free slot of the day. */
  readonly time?: string;
}

export interface RecordPayment {
  readonly appointmentId: number;
  readonly amountCents?: number;
  readonly tipCents: number;
  readonly method: string;
}

export interface AvailabilityDay {
  readonly weekday: number;
  readonly starts: string;
  readonly ends: string;
}

export interface ProfileUpdate {
  readonly fullName?: string;
  readonly phone?: string;
  readonly city?: string;
  readonly bio?: string;
  readonly preferences?: Record<string, unknown>;
}

export interface ServiceUpdate {
  readonly description?: string;
  readonly basePriceCents?: number;
  readonly active?: boolean;
}

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const METHODS = ["card", "cash", "wallet"];

type Obj = Record<string, unknown>;

function object(body: unknown, problems: string[]): Obj {
  if (typeof body === "object" && body !== null && !Array.isArray(body)) return body as Obj;
  problems.push("the body must be a JSON object");
  return {};
}

function id(o: Obj, field: string, problems: string[], required = true): number | undefined {
  const value = o[field];
  if (value === undefined && !required) return undefined;
  if (typeof value === "number" && Number.isInteger(value) && value > 0 && value < 2 ** 31) return value;
  problems.push(`${field} must be a positive integer`);
  return undefined;
}

function text(o: Obj, field: string, problems: string[], max = 500): string | undefined {
  const value = o[field];
  if (value === undefined) return undefined;
  if (typeof value === "string" && value.length <= max) return value;
  problems.push(`${field} must be a string of at most ${max} characters`);
  return undefined;
}

function unknownFields(o: Obj, allowed: readonly string[], problems: string[]): void {
  for (const key of Object.keys(o))
    if (!allowed.includes(key)) problems.push(`unknown field ${JSON.stringify(key)}`);
}

function result<T>(value: T, problems: string[]): Parsed<T> {
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value };
}

export function parseCreateAppointment(body: unknown): Parsed<CreateAppointment> {
  const problems: string[] = [];
  const o = object(body, problems);
  unknownFields(o, ["barberId", "clientId", "serviceId", "date", "time"], problems);
  const date = text(o, "date", problems);
  if (!date || !DATE.test(date)) problems.push("date must be YYYY-MM-DD");
  const time = text(o, "time", problems);
  if (time !== undefined && !TIME.test(time)) problems.push("time must be HH:MM");
  const value = {
    barberId: id(o, "barberId", problems) as number,
    clientId: id(o, "clientId", problems) as number,
    serviceId: id(o, "serviceId", problems) as number,
    date: date as string,
    ...(time ? { time } : {}),
  };
  return result(value, problems);
}

export function parseRecordPayment(body: unknown): Parsed<RecordPayment> {
  const problems: string[] = [];
  const o = object(body, problems);
  unknownFields(o, ["appointmentId", "amountCents", "tipCents", "method"], problems);
  const amountCents = id(o, "amountCents", problems, false);
  const tip = o.tipCents ?? 0;
  if (typeof tip !== "number" || !Number.isInteger(tip) || tip < 0 || tip > 1_000_000) {
    problems.push("tipCents must be an integer between 0 and 1000000");
  }
  const method = o.method ?? "card";
  if (typeof method !== "string" || !METHODS.includes(method))
    problems.push(`method must be one of ${METHODS.join(", ")}`);
  const value = {
    appointmentId: id(o, "appointmentId", problems) as number,
    ...(amountCents ? { amountCents } : {}),
    tipCents: tip as number,
    method: method as string,
  };
  return result(value, problems);
}

export function parseAvailability(body: unknown): Parsed<readonly AvailabilityDay[]> {
  const problems: string[] = [];
  const o = object(body, problems);
  unknownFields(o, ["days"], problems);
  const days = Array.isArray(o.days) ? o.days : [];
  if (days.length === 0 || days.length > 7)
    problems.push("days must list 1 to 7 {weekday, starts, ends} objects");
  const value = days.map((day: unknown, i: number) => {
    const d = object(day, problems);
    const weekday = d.weekday;
    if (typeof weekday !== "number" || !Number.isInteger(weekday) || weekday < 1 || weekday > 7) {
      problems.push(`days[${i}].weekday must be 1 (Monday) to 7 (Sunday)`);
    }
    const starts = String(d.starts ?? "");
    const ends = String(d.ends ?? "");
    if (!TIME.test(starts) || !TIME.test(ends) || starts >= ends) {
      problems.push(`days[${i}] needs starts < ends, both HH:MM`);
    }
    return { weekday: weekday as number, starts, ends };
  });
  return result(value, problems);
}

export function parseProfileUpdate(body: unknown): Parsed<ProfileUpdate> {
  const problems: string[] = [];
  const o = object(body, problems);
  unknownFields(o, ["fullName", "phone", "city", "bio", "preferences"], problems);
  const preferences = o.preferences;
  if (
    preferences !== undefined &&
    (typeof preferences !== "object" || preferences === null || Array.isArray(preferences))
  ) {
    problems.push("preferences must be an object");
  }
  const fields = ["fullName", "phone", "city", "bio"] as const;
  const value: Record<string, unknown> = {};
  for (const field of fields) {
    const v = text(o, field, problems);
    if (v !== undefined) value[field] = v;
  }
  if (preferences !== undefined) value.preferences = preferences;
  if (Object.keys(value).length === 0 && problems.length === 0) problems.push("nothing to update");
  return result(value as ProfileUpdate, problems);
}

export function parseServiceUpdate(body: unknown): Parsed<ServiceUpdate> {
  const problems: string[] = [];
  const o = object(body, problems);
  unknownFields(o, ["description", "basePriceCents", "active"], problems);
  const description = text(o, "description", problems);
  const basePriceCents = id(o, "basePriceCents", problems, false);
  if (o.active !== undefined && typeof o.active !== "boolean") problems.push("active must be a boolean");
  const value = {
    ...(description !== undefined ? { description } : {}),
    ...(basePriceCents !== undefined ? { basePriceCents } : {}),
    ...(typeof o.active === "boolean" ? { active: o.active } : {}),
  };
  if (Object.keys(value).length === 0 && problems.length === 0) problems.push("nothing to update");
  return result(value, problems);
}
