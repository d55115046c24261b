import type { Queryable } from "../database.js";
import { ANCHOR_DATE } from "../schema.js";

/**
 * GET /api/v2/services — the service catalog with each service's price range across barbers and its
 * demand over the last 90 days (a scan of the appointments: the catalog page shows "popular" badges).
 */
export async function serviceCatalog(db: Queryable): Promise<unknown> {
  const services = await db.query(
    `SELECT s.id, s.name, s.category, s.description, s.duration_minutes AS "durationMinutes",
            s.base_price_cents AS "basePriceCents", s.version, s.updated_at::text AS "updatedAt",
            coalesce(bs.barbers, 0)::int AS barbers, bs.min_price AS "minPriceCents", bs.max_price AS "maxPriceCents",
            coalesce(b.bookings, 0)::int AS "bookings90d", coalesce(b.revenue, 0)::bigint::text AS "revenue90dCents",
            rank() OVER (PARTITION BY s.category ORDER BY coalesce(b.bookings, 0) DESC)::int AS "popularityRank"
       FROM services s
       LEFT JOIN (SELECT service_id, count(*) AS barbers, min(price_cents) AS min_price, max(price_cents) AS max_price
                    FROM barber_services GROUP BY service_id) bs ON bs.service_id = s.id
       LEFT JOIN (SELECT service_id, count(*) AS bookings,
                         sum(price_cents) FILTER (WHERE status = 'completed') AS revenue
                    FROM appointments
                   WHERE starts_at >= $1::date - 90 AND starts_at < $1::date
                   GROUP BY service_id) b ON b.service_id = s.id
      WHERE s.active
      ORDER BY s.category, s.name`,
    [ANCHOR_DATE],
  );
  return { services, count: services.length };
}

/** GET /api/v2/services/:serviceId — one service (not cached by the demo policy's catalog route). */
export async function serviceById(db: Queryable, serviceId: number): Promise<unknown | undefined> {
  const rows = await db.query(
    `SELECT id, name, category, description, duration_minutes AS "durationMinutes",
            base_price_cents AS "basePriceCents", active, version, updated_at::text AS "updatedAt"
       FROM services WHERE id = $1`,
    [serviceId],
  );
  return rows[0];
}
