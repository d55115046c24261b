import type {
  AvailabilityDay,
  CreateAppointment,
  ProfileUpdate,
  RecordPayment,
  ServiceUpdate,
} from "../bodies.js";
import type { Database, Queryable } from "../database.js";
import { ANCHOR_DATE } from "../schema.js";
import { firstFreeSlot, SLOT_MINUTES } from "./slots.js";

/** A write's outcome: the created/updated resource, or a client error (404/409) with a message. */
export type WriteResult =
  | { readonly ok: true; readonly status: 200 | 201; readonly body: unknown }
  | { readonly ok: false; readonly status: 404 | 409; readonly message: string };

const notFound = (message: string): WriteResult => ({ ok: false, status: 404, message });

/**
 * POST /api/v2/appointments — books the requested time (or the first free slot of the day) if the
 * barber is free then. Serialized per barber (advisory lock).
 */
export function createAppointment(db: Database, input: CreateAppointment): Promise<WriteResult> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [input.barberId]);
    // The barber's own price when they list the service, the catalog price otherwise.
    const [offer] = await tx.query<{ price_cents: number; duration_minutes: number }>(
      `SELECT coalesce(bs.price_cents, s.base_price_cents) AS price_cents, s.duration_minutes
         FROM services s JOIN barbers b ON b.id = $1
         LEFT JOIN barber_services bs ON bs.barber_id = b.id AND bs.service_id = s.id
        WHERE s.id = $2 AND s.active`,
      [input.barberId, input.serviceId],
    );
    if (!offer) return notFound(`no barber ${input.barberId} or no active service ${input.serviceId}`);
    const [client] = await tx.query("SELECT id FROM users WHERE id = $1", [input.clientId]);
    if (!client) return notFound(`no user ${input.clientId}`);
    const startsAt = input.time
      ? await requestedSlot(tx, input)
      : await firstFreeSlot(tx, input.barberId, input.date);
    if (!startsAt) {
      return {
        ok: false,
        status: 409,
        message: `barber ${input.barberId} has no free ${SLOT_MINUTES}-minute slot then`,
      };
    }
    const [row] = await tx.query(
      `INSERT INTO appointments (barber_id, client_id, service_id, starts_at, duration_minutes, price_cents, status, created_at)
       VALUES ($1, $2, $3, $4::timestamp, $5, $6, 'booked', now())
       RETURNING id, barber_id AS "barberId", client_id AS "clientId", service_id AS "serviceId",
                 starts_at::text AS "startsAt", duration_minutes AS "durationMinutes", price_cents AS "priceCents", status`,
      [input.barberId, input.clientId, input.serviceId, startsAt, offer.duration_minutes, offer.price_cents],
    );
    return { ok: true, status: 201, body: row };
  });
}

async function requestedSlot(tx: Queryable, input: CreateAppointment): Promise<string | undefined> {
  const wanted = `${input.date} ${input.time}:00`;
  const rows = await tx.query<{ slot: string }>(
    `SELECT $3::text AS slot FROM availability av
      WHERE av.barber_id = $1 AND av.weekday = extract(isodow FROM $2::date)
        AND $3::timestamp >= $2::date + av.starts
        AND $3::timestamp + interval '${SLOT_MINUTES} minutes' <= $2::date + av.ends
        AND NOT EXISTS (SELECT 1 FROM appointments a
                         WHERE a.barber_id = $1 AND a.status = 'booked'
                           AND a.starts_at >= $2::date AND a.starts_at < $2::date + 1
                           AND $3::timestamp < a.starts_at + make_interval(mins => a.duration_minutes)
                           AND $3::timestamp + interval '${SLOT_MINUTES} minutes' > a.starts_at)`,
    [input.barberId, input.date, wanted],
  );
  return rows[0]?.slot;
}

/** DELETE /api/v2/appointments/:id — cancels a booked appointment. */
export async function cancelAppointment(db: Database, appointmentId: number): Promise<WriteResult> {
  const [row] = await db.query(
    `UPDATE appointments SET status = 'cancelled' WHERE id = $1 AND status = 'booked'
     RETURNING id, barber_id AS "barberId", starts_at::text AS "startsAt", status`,
    [appointmentId],
  );
  return row ? { ok: true, status: 200, body: row } : notFound(`no booked appointment ${appointmentId}`);
}

/**
 * POST /api/v2/payments — records a payment for an appointment. The demo's clock is frozen at
 * ANCHOR_DATE: the payment is dated the previous day (at the current time of day) so that it counts
 * in every analytics window.
 */
export async function recordPayment(db: Database, input: RecordPayment): Promise<WriteResult> {
  const [row] = await db.query(
    `INSERT INTO payments (appointment_id, client_id, barber_id, amount_cents, tip_cents, method, paid_at)
     SELECT a.id, a.client_id, a.barber_id, coalesce($2, a.price_cents), $3, $4, $5::date - 1 + localtime
       FROM appointments a WHERE a.id = $1
     RETURNING id, appointment_id AS "appointmentId", amount_cents AS "amountCents", tip_cents AS "tipCents",
               method, paid_at::text AS "paidAt"`,
    [input.appointmentId, input.amountCents ?? null, input.tipCents, input.method, ANCHOR_DATE],
  );
  return row ? { ok: true, status: 201, body: row } : notFound(`no appointment ${input.appointmentId}`);
}

/** PUT /api/v2/barbers/:barberId/availability — replaces the hours of the given weekdays. */
export function updateAvailability(
  db: Database,
  barberId: number,
  days: readonly AvailabilityDay[],
): Promise<WriteResult> {
  return db.transaction(async (tx) => {
    const [barber] = await tx.query("SELECT id FROM barbers WHERE id = $1", [barberId]);
    if (!barber) return notFound(`no barber ${barberId}`);
    for (const day of days) {
      await tx.query(
        `INSERT INTO availability (barber_id, weekday, starts, ends) VALUES ($1, $2, $3::time, $4::time)
         ON CONFLICT (barber_id, weekday) DO UPDATE SET starts = excluded.starts, ends = excluded.ends`,
        [barberId, day.weekday, day.starts, day.ends],
      );
    }
    const availability = await tx.query(
      `SELECT weekday, to_char(starts, 'HH24:MI') AS starts, to_char(ends, 'HH24:MI') AS ends
         FROM availability WHERE barber_id = $1 ORDER BY weekday`,
      [barberId],
    );
    return { ok: true, status: 200, body: { barberId, availability } };
  });
}

/** PUT /api/v2/users/:userId/profile — updates the given fields and bumps the profile's version. */
export async function updateProfile(
  db: Database,
  userId: number,
  update: ProfileUpdate,
): Promise<WriteResult> {
  const [row] = await db.query(
    `UPDATE users SET full_name = coalesce($2, full_name), phone = coalesce($3, phone), city = coalesce($4, city),
                      bio = coalesce($5, bio), preferences = coalesce($6::jsonb, preferences),
                      version = version + 1, updated_at = now()
      WHERE id = $1
     RETURNING id, full_name AS "fullName", phone, city, bio, preferences, version, updated_at::text AS "updatedAt"`,
    [
      userId,
      update.fullName ?? null,
      update.phone ?? null,
      update.city ?? null,
      update.bio ?? null,
      update.preferences === undefined ? null : JSON.stringify(update.preferences),
    ],
  );
  return row ? { ok: true, status: 200, body: row } : notFound(`no user ${userId}`);
}

/** PUT /api/v2/services/:serviceId — updates a catalog entry and bumps its version. */
export async function updateService(
  db: Database,
  serviceId: number,
  update: ServiceUpdate,
): Promise<WriteResult> {
  const [row] = await db.query(
    `UPDATE services SET description = coalesce($2, description), base_price_cents = coalesce($3, base_price_cents),
                         active = coalesce($4, active), version = version + 1, updated_at = now()
      WHERE id = $1
     RETURNING id, name, description, base_price_cents AS "basePriceCents", active, version, updated_at::text AS "updatedAt"`,
    [serviceId, update.description ?? null, update.basePriceCents ?? null, update.active ?? null],
  );
  return row ? { ok: true, status: 200, body: row } : notFound(`no service ${serviceId}`);
}
