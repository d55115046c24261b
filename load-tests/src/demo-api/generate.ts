import { createRandom, type Random, weightedSampler, zipfSampler } from "./prng.js";
import { ANCHOR_DATE, FUTURE_DAYS, HISTORY_DAYS } from "./schema.js";
import { barberCount, barberUserId, type DatasetSize } from "./sizes.js";

/**
 * The dataset generator: pure, deterministic (seeded), streaming. It yields batches of rows per table,
 * in dependency order, for the loader to insert. Nothing here touches a database.
 */
export interface RowBatch {
  readonly table: string;
  /** Column names, each with its PostgreSQL type (used to build the bulk insert). */
  readonly columns: readonly (readonly [name: string, type: string])[];
  readonly rows: readonly (readonly (string | number | boolean)[])[];
}

export const DEFAULT_SEED = 20250728;
const BATCH = 20_000;

const FIRST = [
  "Alex",
  "Sam",
  "Jordan",
  "Taylor",
  "Chris",
  "Jamie",
  "Morgan",
  "Casey",
  "Riley",
  "Drew",
  "Avery",
  "Quinn",
];
const LAST = [
  "Smith",
  "Garcia",
  "Brown",
  "Lee",
  "Walker",
  "Young",
  "King",
  "Lopez",
  "Hill",
  "Scott",
  "Green",
  "Adams",
];
const CITIES = ["Austin", "Denver", "Chicago", "Seattle", "Boston", "Miami", "Atlanta", "Portland"];
const CATEGORIES = ["haircut", "beard", "shave", "color", "kids", "treatment", "styling", "package"];
const METHODS = ["card", "card", "card", "cash", "wallet"];
const STATUS_PAST = ["completed", "cancelled", "no_show"] as const;
const STATUS_FUTURE = ["booked", "cancelled"] as const;

const DAY_MS = 86_400_000;
const ANCHOR_MS = Date.parse(`${ANCHOR_DATE}T00:00:00Z`);

/** `YYYY-MM-DD HH:MM:SS` for a UTC millisecond timestamp (the DB stores timestamps without zone). */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

export function formatDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function name(random: Random): string {
  return `${random.pick(FIRST)} ${random.pick(LAST)}`;
}

function* chunked(table: string, columns: RowBatch["columns"], rows: Iterable<RowBatch["rows"][number]>) {
  let batch: RowBatch["rows"][number][] = [];
  for (const row of rows) {
    batch.push(row);
    if (batch.length === BATCH) {
      yield { table, columns, rows: batch };
      batch = [];
    }
  }
  if (batch.length > 0) yield { table, columns, rows: batch };
}

/** Duration and base price of catalog service s (1-based). */
export function serviceShape(serviceId: number): { durationMinutes: number; basePriceCents: number } {
  const durationMinutes = [30, 45, 60, 30, 90][serviceId % 5] as number;
  return { durationMinutes, basePriceCents: 1500 + ((serviceId * 737) % 60) * 100 };
}

export function* generateDataset(size: DatasetSize, seed = DEFAULT_SEED): Generator<RowBatch> {
  const random = createRandom(seed);
  yield* chunked(
    "shops",
    [
      ["id", "int4"],
      ["name", "text"],
      ["city", "text"],
      ["opened_on", "date"],
    ],
    shops(size, random),
  );
  yield* chunked("users", USER_COLUMNS, users(size, random));
  yield* chunked(
    "barbers",
    [
      ["id", "int4"],
      ["user_id", "int4"],
      ["shop_id", "int4"],
      ["display_name", "text"],
      ["hired_on", "date"],
    ],
    barbers(size, random),
  );
  yield* chunked("services", SERVICE_COLUMNS, services(size, random));
  yield* chunked(
    "barber_services",
    [
      ["barber_id", "int4"],
      ["service_id", "int4"],
      ["price_cents", "int4"],
    ],
    barberServices(size, random),
  );
  yield* chunked(
    "availability",
    [
      ["barber_id", "int4"],
      ["weekday", "int2"],
      ["starts", "time"],
      ["ends", "time"],
    ],
    availability(size, random),
  );
  const payments: RowBatch["rows"][number][] = [];
  yield* chunked("appointments", APPOINTMENT_COLUMNS, appointments(size, random, payments));
  yield* chunked("payments", PAYMENT_COLUMNS, payments);
}

function* shops(size: DatasetSize, random: Random) {
  for (let id = 1; id <= size.shops; id++) {
    yield [
      id,
      `${random.pick(LAST)}'s Barbershop #${id}`,
      random.pick(CITIES),
      formatDate(ANCHOR_MS - random.int(200, 3000) * DAY_MS),
    ];
  }
}

const USER_COLUMNS: RowBatch["columns"] = [
  ["id", "int4"],
  ["role", "text"],
  ["full_name", "text"],
  ["email", "text"],
  ["phone", "text"],
  ["city", "text"],
  ["created_at", "timestamp"],
  ["bio", "text"],
  ["preferences", "jsonb"],
];

function* userIds(size: DatasetSize): Generator<[userId: number, barberId: number]> {
  for (let id = 1; id <= size.clients; id++) yield [id, 0];
  for (let b = 1; b <= barberCount(size); b++) yield [barberUserId(b), b];
}

function* users(size: DatasetSize, random: Random) {
  for (const [id, barberId] of userIds(size)) {
    const role = barberId === 0 ? "client" : (barberId - 1) % size.barbersPerShop === 0 ? "owner" : "barber";
    const preferences = { language: random.pick(["en", "es", "fr"]), reminders: random.chance(0.7) };
    yield [
      id,
      role,
      name(random),
      `user${id}@example.test`,
      `+1-555-${String(random.int(0, 9_999_999)).padStart(7, "0")}`,
      random.pick(CITIES),
      formatTimestamp(ANCHOR_MS - random.int(10, 1500) * DAY_MS),
      role === "client" ? "" : `Barber since ${2000 + random.int(0, 24)}.`,
      JSON.stringify(preferences),
    ];
  }
}

function* barbers(size: DatasetSize, random: Random) {
  for (let id = 1; id <= barberCount(size); id++) {
    const shopId = Math.floor((id - 1) / size.barbersPerShop) + 1;
    yield [id, barberUserId(id), shopId, name(random), formatDate(ANCHOR_MS - random.int(30, 2500) * DAY_MS)];
  }
}

const SERVICE_COLUMNS: RowBatch["columns"] = [
  ["id", "int4"],
  ["name", "text"],
  ["category", "text"],
  ["description", "text"],
  ["duration_minutes", "int4"],
  ["base_price_cents", "int4"],
];

function* services(size: DatasetSize, random: Random) {
  for (let id = 1; id <= size.services; id++) {
    const category = CATEGORIES[(id - 1) % CATEGORIES.length] as string;
    const { durationMinutes, basePriceCents } = serviceShape(id);
    const description = `${category} service ${id}: ${random.pick(["classic", "premium", "express", "deluxe"])}`;
    yield [
      id,
      `${category[0]?.toUpperCase()}${category.slice(1)} ${id}`,
      category,
      description,
      durationMinutes,
      basePriceCents,
    ];
  }
}

/** Barber b offers 8 of the catalog's services, at a price around the base price. */
export function offeredServices(size: DatasetSize, barberId: number): number[] {
  const offered: number[] = [];
  for (let k = 0; k < 8; k++) offered.push(((barberId * 7 + k * 5) % size.services) + 1);
  return [...new Set(offered)];
}

function* barberServices(size: DatasetSize, random: Random) {
  for (let barberId = 1; barberId <= barberCount(size); barberId++) {
    for (const serviceId of offeredServices(size, barberId)) {
      const price = Math.round(serviceShape(serviceId).basePriceCents * (0.8 + random.next() * 0.6));
      yield [barberId, serviceId, price];
    }
  }
}

function* availability(size: DatasetSize, random: Random) {
  for (let barberId = 1; barberId <= barberCount(size); barberId++) {
    const dayOff = random.int(1, 7);
    for (let weekday = 1; weekday <= 7; weekday++) {
      if (weekday === dayOff || (weekday === 7 && random.chance(0.5))) continue;
      const start = random.pick(["08:00", "09:00", "10:00"]);
      const end = random.pick(["17:00", "18:00", "19:00", "20:00"]);
      yield [barberId, weekday, start, end];
    }
  }
}

const APPOINTMENT_COLUMNS: RowBatch["columns"] = [
  ["id", "int4"],
  ["barber_id", "int4"],
  ["client_id", "int4"],
  ["service_id", "int4"],
  ["starts_at", "timestamp"],
  ["duration_minutes", "int4"],
  ["price_cents", "int4"],
  ["status", "text"],
  ["created_at", "timestamp"],
];
const PAYMENT_COLUMNS: RowBatch["columns"] = [
  ["appointment_id", "int4"],
  ["client_id", "int4"],
  ["barber_id", "int4"],
  ["amount_cents", "int4"],
  ["tip_cents", "int4"],
  ["method", "text"],
  ["paid_at", "timestamp"],
];

function* appointments(size: DatasetSize, random: Random, payments: RowBatch["rows"][number][]) {
  // Popular barbers (low ids) and regular clients (low ids) book more: Zipf-like skew.
  const barber = zipfSampler(1, barberCount(size), 0.6);
  const client = zipfSampler(1, size.clients, 0.5);
  const pastStatus = weightedSampler([85, 10, 5]);
  const days = HISTORY_DAYS + FUTURE_DAYS;
  for (let id = 1; id <= size.appointments; id++) {
    const barberId = barber(random);
    const offered = offeredServices(size, barberId);
    const serviceId = random.pick(offered);
    const { durationMinutes, basePriceCents } = serviceShape(serviceId);
    const day = random.int(0, days - 1) - HISTORY_DAYS;
    const startsAt = ANCHOR_MS + day * DAY_MS + (9 * 60 + 30 * random.int(0, 19)) * 60_000;
    const status = day < 0 ? STATUS_PAST[pastStatus(random)] : STATUS_FUTURE[random.chance(0.9) ? 0 : 1];
    const clientId = client(random);
    const price = Math.round(basePriceCents * (0.9 + random.next() * 0.3));
    yield [
      id,
      barberId,
      clientId,
      serviceId,
      formatTimestamp(startsAt),
      durationMinutes,
      price,
      status as string,
      formatTimestamp(startsAt - random.int(1, 30) * DAY_MS),
    ];
    if (status === "completed") {
      const paidAt = formatTimestamp(startsAt + durationMinutes * 60_000);
      payments.push([id, clientId, barberId, price, random.int(0, 8) * 100, random.pick(METHODS), paidAt]);
    }
  }
}
