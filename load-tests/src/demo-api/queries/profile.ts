import type { Queryable } from "../database.js";
import { ANCHOR_DATE } from "../schema.js";

/**
 * GET /api/v2/users/:userId/profile — the account plus visit statistics, favourite barbers, spend and
 * upcoming bookings. The appointments table has no index on client_id (as on the platform), so each
 * statistic scans it.
 */
export async function userProfile(db: Queryable, userId: number): Promise<unknown | undefined> {
  const [user] = await db.query(
    `SELECT id, role, full_name AS "fullName", email, phone, city, created_at::text AS "createdAt", bio,
            preferences, version, updated_at::text AS "updatedAt"
       FROM users WHERE id = $1`,
    [userId],
  );
  if (!user) return undefined;
  const [visits] = await db.query(
    `SELECT count(*) FILTER (WHERE status = 'completed')::int AS visits,
            count(*) FILTER (WHERE status = 'no_show')::int AS "noShows",
            count(*) FILTER (WHERE status = 'cancelled')::int AS cancellations,
            max(starts_at) FILTER (WHERE status = 'completed')::text AS "lastVisit",
            coalesce(sum(price_cents) FILTER (WHERE status = 'completed'), 0)::bigint::text AS "spentCents"
       FROM appointments WHERE client_id = $1`,
    [userId],
  );
  const favouriteBarbers = await db.query(
    `SELECT a.barber_id AS "barberId", b.display_name AS "displayName", count(*)::int AS visits
       FROM appointments a JOIN barbers b ON b.id = a.barber_id
      WHERE a.client_id = $1 AND a.status = 'completed'
      GROUP BY a.barber_id, b.display_name ORDER BY visits DESC, a.barber_id LIMIT 3`,
    [userId],
  );
  const [payments] = await db.query(
    `SELECT count(*)::int AS payments, coalesce(sum(tip_cents), 0)::bigint::text AS "tipsCents"
       FROM payments WHERE client_id = $1`,
    [userId],
  );
  const upcoming = await db.query(
    `SELECT id, barber_id AS "barberId", service_id AS "serviceId", starts_at::text AS "startsAt"
       FROM appointments
      WHERE client_id = $1 AND status = 'booked' AND starts_at >= $2::date
      ORDER BY starts_at LIMIT 5`,
    [userId, ANCHOR_DATE],
  );
  const monthly = await db.query(
    `SELECT to_char(date_trunc('month', starts_at), 'YYYY-MM') AS month, count(*)::int AS visits,
            sum(price_cents)::bigint::text AS "spentCents"
       FROM appointments WHERE client_id = $1 AND status = 'completed' GROUP BY 1 ORDER BY 1`,
    [userId],
  );
  return { ...user, stats: { ...visits, ...payments }, favouriteBarbers, upcoming, monthly };
}
