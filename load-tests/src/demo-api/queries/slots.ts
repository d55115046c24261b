import type { Queryable } from "../database.js";
import { ANCHOR_DATE } from "../schema.js";

/** The minimum bookable length of a slot, in minutes. */
export const SLOT_MINUTES = 30;

/** Free start times of barber on date: the availability grid minus overlapping active bookings. */
const FREE_GRID = `
  av AS (SELECT starts, ends FROM availability WHERE barber_id = $1 AND weekday = extract(isodow FROM $2::date)),
  grid AS (SELECT g AS slot FROM av,
             generate_series($2::date + av.starts, $2::date + av.ends - interval '${SLOT_MINUTES} minutes',
                             interval '15 minutes') g),
  booked AS (SELECT starts_at, starts_at + make_interval(mins => duration_minutes) AS ends_at
               FROM appointments
              WHERE barber_id = $1 AND status = 'booked' AND starts_at >= $2::date AND starts_at < $2::date + 1),
  free AS (SELECT slot FROM grid
            WHERE NOT EXISTS (SELECT 1 FROM booked b
                               WHERE grid.slot < b.ends_at AND grid.slot + interval '${SLOT_MINUTES} minutes' > b.starts_at))`;

/**
 * GET /api/v2/barbers/:barberId/slots?date=YYYY-MM-DD — the free slots of a barber on a date, each with
 * a demand score (how often that weekday and time is booked across the platform, from the history:
 * a scan) and how many of the shop's other barbers are free at the same time.
 */
export async function availableSlots(
  db: Queryable,
  barberId: number,
  date: string,
): Promise<unknown | undefined> {
  const [barber] = await db.query<{ shop_id: number }>(`SELECT shop_id FROM barbers WHERE id = $1`, [
    barberId,
  ]);
  if (!barber) return undefined;
  const slots = await db.query(
    `WITH ${FREE_GRID},
       demand AS (SELECT a.starts_at::time AS t, count(*) AS n, count(*) FILTER (WHERE b.shop_id = $4) AS shop_n
                    FROM appointments a JOIN barbers b ON b.id = a.barber_id
                   WHERE a.starts_at < $3::date AND a.status <> 'cancelled'
                     AND extract(isodow FROM a.starts_at) = extract(isodow FROM $2::date)
                   GROUP BY 1),
       risk AS (SELECT starts_at::time AS t,
                       avg(CASE WHEN status = 'no_show' THEN 1.0 ELSE 0.0 END) AS no_show_rate
                  FROM appointments WHERE starts_at < $3::date GROUP BY 1),
       peers AS (SELECT a.starts_at, a.starts_at + make_interval(mins => a.duration_minutes) AS ends_at
                   FROM appointments a JOIN barbers b ON b.id = a.barber_id
                  WHERE b.shop_id = $4 AND a.barber_id <> $1 AND a.status = 'booked'
                    AND a.starts_at >= $2::date AND a.starts_at < $2::date + 1)
     SELECT to_char(f.slot, 'HH24:MI') AS time, coalesce(d.n, 0)::int AS demand,
            coalesce(d.shop_n, 0)::int AS "shopDemand", round(coalesce(r.no_show_rate, 0), 3)::float AS "noShowRisk",
            (SELECT count(*) FROM peers p WHERE f.slot < p.ends_at AND f.slot + interval '30 minutes' > p.starts_at)::int
              AS "peersBusy"
       FROM free f LEFT JOIN demand d ON d.t = f.slot::time LEFT JOIN risk r ON r.t = f.slot::time
      ORDER BY f.slot`,
    [barberId, date, ANCHOR_DATE, barber.shop_id],
  );
  return { barberId, date, slotMinutes: SLOT_MINUTES, slots };
}

/** The first free start time of barber on date, or undefined; used by the booking write. */
export async function firstFreeSlot(
  db: Queryable,
  barberId: number,
  date: string,
): Promise<string | undefined> {
  const rows = await db.query<{ slot: string }>(
    `WITH ${FREE_GRID} SELECT to_char(slot, 'YYYY-MM-DD HH24:MI:SS') AS slot FROM free ORDER BY slot LIMIT 1`,
    [barberId, date],
  );
  return rows[0]?.slot;
}
