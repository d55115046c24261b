import type { Queryable } from "../database.js";
import { ANCHOR_DATE } from "../schema.js";

/**
 * GET /api/v2/dashboard — the shop owner's dashboard (the caller is identified by Authorization):
 * today's schedule, each barber's 30-day revenue, utilization and no-show rate, the shop's 12-week
 * revenue trend against the platform average, its rank among all shops, and client retention.
 */
export async function ownerDashboard(db: Queryable, shopId: number): Promise<unknown> {
  const params = [shopId, ANCHOR_DATE];
  const today = await db.query(
    `SELECT a.id, a.barber_id AS "barberId", a.client_id AS "clientId", a.service_id AS "serviceId",
            a.starts_at::text AS "startsAt", a.status
       FROM appointments a JOIN barbers b ON b.id = a.barber_id
      WHERE b.shop_id = $1 AND a.starts_at >= $2::date AND a.starts_at < $2::date + 1
      ORDER BY a.starts_at, a.id`,
    params,
  );
  const barbers = await db.query(
    `WITH win AS (SELECT a.* FROM appointments a JOIN barbers b ON b.id = a.barber_id
                   WHERE b.shop_id = $1 AND a.starts_at >= $2::date - 30 AND a.starts_at < $2::date),
          open AS (SELECT av.barber_id, sum(extract(epoch FROM av.ends - av.starts) / 60) AS minutes
                     FROM availability av JOIN barbers b ON b.id = av.barber_id
                     JOIN generate_series($2::date - 30, $2::date - 1, interval '1 day') d
                       ON extract(isodow FROM d) = av.weekday
                    WHERE b.shop_id = $1 GROUP BY av.barber_id)
     SELECT b.id AS "barberId", b.display_name AS "displayName",
            coalesce(sum(w.price_cents) FILTER (WHERE w.status = 'completed'), 0)::bigint::text AS "revenue30dCents",
            count(w.id) FILTER (WHERE w.status = 'completed')::int AS completed,
            round(coalesce(count(w.id) FILTER (WHERE w.status = 'no_show')::numeric / nullif(count(w.id), 0), 0), 3)::float
              AS "noShowRate",
            round(coalesce(sum(w.duration_minutes) FILTER (WHERE w.status = 'completed') / nullif(max(o.minutes), 0), 0), 3)::float
              AS utilization
       FROM barbers b LEFT JOIN win w ON w.barber_id = b.id LEFT JOIN open o ON o.barber_id = b.id
      WHERE b.shop_id = $1 GROUP BY b.id, b.display_name ORDER BY b.id`,
    params,
  );
  const trend = await db.query(
    `WITH weekly AS (SELECT date_trunc('week', p.paid_at) AS week, b.shop_id, sum(p.amount_cents) AS revenue
                       FROM payments p JOIN barbers b ON b.id = p.barber_id
                      WHERE p.paid_at >= $2::date - 84 AND p.paid_at < $2::date GROUP BY 1, 2)
     SELECT to_char(week, 'YYYY-MM-DD') AS week,
            coalesce(sum(revenue) FILTER (WHERE shop_id = $1), 0)::bigint::text AS "shopRevenueCents",
            round(avg(revenue))::bigint::text AS "platformAverageCents"
       FROM weekly GROUP BY week ORDER BY week`,
    params,
  );
  const [rank] = await db.query(
    `WITH r AS (SELECT b.shop_id, sum(p.amount_cents) AS revenue
                  FROM payments p JOIN appointments a ON a.id = p.appointment_id JOIN barbers b ON b.id = a.barber_id
                 WHERE p.paid_at >= $2::date - 30 AND p.paid_at < $2::date GROUP BY b.shop_id),
          ranked AS (SELECT shop_id, revenue, rank() OVER (ORDER BY revenue DESC) AS rank, count(*) OVER () AS shops FROM r)
     SELECT rank::int, shops::int, revenue::bigint::text AS "revenue30dCents" FROM ranked WHERE shop_id = $1`,
    params,
  );
  const [retention] = await db.query(
    `WITH v AS (SELECT a.client_id, a.starts_at,
                       lag(a.starts_at) OVER (PARTITION BY a.client_id ORDER BY a.starts_at) AS previous
                  FROM appointments a JOIN barbers b ON b.id = a.barber_id
                 WHERE b.shop_id = $1 AND a.status = 'completed' AND a.starts_at < $2::date)
     SELECT count(DISTINCT client_id)::int AS clients,
            count(DISTINCT client_id) FILTER (WHERE previous IS NOT NULL)::int AS "returningClients",
            round(avg(extract(epoch FROM starts_at - previous) / 86400) FILTER (WHERE previous IS NOT NULL)::numeric, 1)::float
              AS "avgDaysBetweenVisits"
       FROM v`,
    params,
  );
  const benchmarks = await shopBenchmarks(db, shopId);
  const competition = await clientOverlap(db, shopId);
  const forecast = await capacityForecast(db, shopId);
  const barberRanks = await barberBenchmarks(db, shopId);
  return {
    shopId,
    asOf: ANCHOR_DATE,
    today,
    barbers,
    trend,
    rank,
    retention,
    benchmarks,
    competition,
    forecast,
    barberRanks,
  };
}

/**
 * How the shop compares with every other shop on retention, utilization and no-shows over the last
 * 180 days: each metric is computed for all shops, then the shop's percentile is read off.
 */
async function shopBenchmarks(db: Queryable, shopId: number): Promise<unknown> {
  return db.query(
    `WITH recent AS (SELECT a.client_id, a.barber_id, b.shop_id, a.starts_at, a.duration_minutes, a.status
                       FROM appointments a JOIN barbers b ON b.id = a.barber_id
                      WHERE a.starts_at >= $2::date - 180 AND a.starts_at < $2::date),
          visits AS (SELECT shop_id, client_id,
                            lag(starts_at) OVER (PARTITION BY shop_id, client_id ORDER BY starts_at) AS previous
                       FROM recent WHERE status = 'completed'),
          retention AS (SELECT shop_id, count(DISTINCT client_id) FILTER (WHERE previous IS NOT NULL)::numeric
                                          / nullif(count(DISTINCT client_id), 0) AS value
                          FROM visits GROUP BY shop_id),
          open AS (SELECT b.shop_id, sum(extract(epoch FROM av.ends - av.starts) / 60) AS minutes
                     FROM availability av JOIN barbers b ON b.id = av.barber_id
                     JOIN generate_series($2::date - 180, $2::date - 1, interval '1 day') d ON extract(isodow FROM d) = av.weekday
                    GROUP BY b.shop_id),
          utilization AS (SELECT r.shop_id, sum(r.duration_minutes) FILTER (WHERE r.status = 'completed') / max(o.minutes) AS value
                            FROM recent r JOIN open o USING (shop_id) GROUP BY r.shop_id),
          no_shows AS (SELECT shop_id, avg(CASE WHEN status = 'no_show' THEN 1.0 ELSE 0.0 END) AS value
                         FROM recent GROUP BY shop_id),
          metrics AS (SELECT 'retention' AS metric, shop_id, value FROM retention
                      UNION ALL SELECT 'utilization', shop_id, value FROM utilization
                      UNION ALL SELECT 'noShowRate', shop_id, value FROM no_shows),
          ranked AS (SELECT metric, shop_id, value, percent_rank() OVER (PARTITION BY metric ORDER BY value) AS percentile,
                            avg(value) OVER (PARTITION BY metric) AS platform_average
                       FROM metrics)
     SELECT metric, round(value, 4)::float AS value, round(percentile::numeric, 3)::float AS percentile,
            round(platform_average, 4)::float AS "platformAverage"
       FROM ranked WHERE shop_id = $1 ORDER BY metric`,
    [shopId, ANCHOR_DATE],
  );
}

/** The shop's clients of the last 90 days who also booked at other shops, and where. */
async function clientOverlap(db: Queryable, shopId: number): Promise<unknown> {
  return db.query(
    `WITH ours AS (SELECT DISTINCT a.client_id FROM appointments a JOIN barbers b ON b.id = a.barber_id
                    WHERE b.shop_id = $1 AND a.starts_at >= $2::date - 90 AND a.starts_at < $2::date),
          elsewhere AS (SELECT b.shop_id, a.client_id, a.price_cents
                          FROM appointments a JOIN barbers b ON b.id = a.barber_id JOIN ours USING (client_id)
                         WHERE b.shop_id <> $1 AND a.status = 'completed' AND a.starts_at < $2::date)
     SELECT shop_id AS "shopId", count(DISTINCT client_id)::int AS "sharedClients",
            sum(price_cents)::bigint::text AS "spentThereCents"
       FROM elsewhere GROUP BY shop_id ORDER BY count(DISTINCT client_id) DESC, shop_id LIMIT 5`,
    [shopId, ANCHOR_DATE],
  );
}

/** Booked share of open minutes over the next 28 days, for the shop and on average over all shops. */
async function capacityForecast(db: Queryable, shopId: number): Promise<unknown> {
  const [row] = await db.query(
    `WITH open AS (SELECT b.shop_id, d::date AS day, sum(extract(epoch FROM av.ends - av.starts) / 60) AS minutes
                     FROM availability av JOIN barbers b ON b.id = av.barber_id
                     JOIN generate_series($2::date, $2::date + 27, interval '1 day') d ON extract(isodow FROM d) = av.weekday
                    GROUP BY 1, 2),
          booked AS (SELECT b.shop_id, a.starts_at::date AS day, sum(a.duration_minutes) AS minutes
                       FROM appointments a JOIN barbers b ON b.id = a.barber_id
                      WHERE a.status = 'booked' AND a.starts_at >= $2::date AND a.starts_at < $2::date + 28
                      GROUP BY 1, 2),
          per AS (SELECT o.shop_id, sum(coalesce(k.minutes, 0)) / sum(o.minutes) AS load
                    FROM open o LEFT JOIN booked k USING (shop_id, day) GROUP BY o.shop_id)
     SELECT round((SELECT load FROM per WHERE shop_id = $1), 4)::float AS "shopBookedShare",
            round(avg(load), 4)::float AS "platformBookedShare"
       FROM per`,
    [shopId, ANCHOR_DATE],
  );
  return row;
}

/** Where each of the shop's barbers stands among all barbers: 180-day revenue, tips and rebooking. */
async function barberBenchmarks(db: Queryable, shopId: number): Promise<unknown> {
  return db.query(
    `WITH pay AS (SELECT barber_id, sum(amount_cents) AS revenue, avg(tip_cents::numeric / nullif(amount_cents, 0)) AS tip_rate
                    FROM payments WHERE paid_at >= $2::date - 180 AND paid_at < $2::date GROUP BY barber_id),
          visits AS (SELECT barber_id, client_id, count(*) AS n FROM appointments
                      WHERE status = 'completed' AND starts_at >= $2::date - 180 AND starts_at < $2::date
                      GROUP BY barber_id, client_id),
          rebook AS (SELECT barber_id, avg(CASE WHEN n > 1 THEN 1.0 ELSE 0.0 END) AS rate FROM visits GROUP BY barber_id),
          ranked AS (SELECT p.barber_id, p.revenue, p.tip_rate, r.rate,
                            percent_rank() OVER (ORDER BY p.revenue) AS revenue_pct,
                            percent_rank() OVER (ORDER BY p.tip_rate) AS tip_pct,
                            percent_rank() OVER (ORDER BY r.rate) AS rebook_pct
                       FROM pay p JOIN rebook r USING (barber_id))
     SELECT r.barber_id AS "barberId", round(r.revenue_pct::numeric, 3)::float AS "revenuePercentile",
            round(r.tip_pct::numeric, 3)::float AS "tipPercentile", round(r.rebook_pct::numeric, 3)::float AS "rebookPercentile"
       FROM ranked r JOIN barbers b ON b.id = r.barber_id WHERE b.shop_id = $1 ORDER BY r.barber_id`,
    [shopId, ANCHOR_DATE],
  );
}
