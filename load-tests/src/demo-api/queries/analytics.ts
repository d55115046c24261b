import type { Queryable } from "../database.js";
import { ANCHOR_DATE } from "../schema.js";

export const ANALYTICS_RANGES = { "7d": 7, "30d": 30, "90d": 90 } as const;
export type AnalyticsRange = keyof typeof ANALYTICS_RANGES;
export const ANALYTICS_REPORTS = ["revenue", "clients"] as const;
export type AnalyticsReport = (typeof ANALYTICS_REPORTS)[number];

/** Payments in the window joined to their appointment, service and barber. */
const PAID = `
  paid AS (SELECT p.amount_cents, p.tip_cents, p.method, p.paid_at, a.service_id, s.category, a.barber_id, b.shop_id
             FROM payments p
             JOIN appointments a ON a.id = p.appointment_id
             JOIN services s ON s.id = a.service_id
             JOIN barbers b ON b.id = a.barber_id
            WHERE p.paid_at >= $1::date - $2::int AND p.paid_at < $1::date)`;

/**
 * GET /api/v2/analytics/revenue?range=30d — business revenue analytics: a daily series with a 7-day
 * moving average, the previous period for comparison, revenue by category and method, ticket-size
 * percentiles, and the top barbers and shops with their rank.
 */
export async function revenueAnalytics(db: Queryable, range: AnalyticsRange): Promise<unknown> {
  const days = ANALYTICS_RANGES[range];
  const params = [ANCHOR_DATE, days];
  const daily = await db.query(
    `WITH ${PAID}, d AS (SELECT paid_at::date AS day, sum(amount_cents) AS revenue, sum(tip_cents) AS tips, count(*) AS n
                           FROM paid GROUP BY 1)
     SELECT day::text, revenue::bigint::text AS "revenueCents", tips::bigint::text AS "tipsCents", n::int AS payments,
            round(avg(revenue) OVER (ORDER BY day ROWS 6 PRECEDING))::bigint::text AS "movingAverage7dCents"
       FROM d ORDER BY day`,
    params,
  );
  const previous = await db.query(
    `SELECT coalesce(sum(amount_cents), 0)::bigint::text AS "revenueCents", count(*)::int AS payments
       FROM payments WHERE paid_at >= $1::date - 2 * $2::int AND paid_at < $1::date - $2::int`,
    params,
  );
  const byCategory = await db.query(
    `WITH ${PAID}
     SELECT category, sum(amount_cents)::bigint::text AS "revenueCents", count(*)::int AS payments,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY amount_cents)::int AS "medianTicketCents",
            percentile_cont(0.9) WITHIN GROUP (ORDER BY amount_cents)::int AS "p90TicketCents"
       FROM paid GROUP BY category ORDER BY sum(amount_cents) DESC`,
    params,
  );
  const byMethod = await db.query(
    `WITH ${PAID} SELECT method, sum(amount_cents)::bigint::text AS "revenueCents", count(*)::int AS payments
       FROM paid GROUP BY method ORDER BY method`,
    params,
  );
  const topBarbers = await db.query(
    `WITH ${PAID}, r AS (SELECT barber_id, sum(amount_cents) AS revenue, count(*) AS n FROM paid GROUP BY barber_id)
     SELECT barber_id AS "barberId", revenue::bigint::text AS "revenueCents", n::int AS payments,
            rank() OVER (ORDER BY revenue DESC)::int AS rank,
            round((percent_rank() OVER (ORDER BY revenue))::numeric, 3)::float AS percentile
       FROM r ORDER BY revenue DESC, barber_id LIMIT 10`,
    params,
  );
  const topShops = await db.query(
    `WITH ${PAID}, r AS (SELECT shop_id, sum(amount_cents) AS revenue, count(DISTINCT barber_id) AS barbers FROM paid GROUP BY shop_id)
     SELECT shop_id AS "shopId", revenue::bigint::text AS "revenueCents", barbers::int,
            rank() OVER (ORDER BY revenue DESC)::int AS rank
       FROM r ORDER BY revenue DESC, shop_id LIMIT 10`,
    params,
  );
  const heatmap = await db.query(
    `WITH ${PAID}
     SELECT extract(isodow FROM paid_at)::int AS weekday, extract(hour FROM paid_at)::int AS hour,
            sum(amount_cents)::bigint::text AS "revenueCents", count(*)::int AS payments
       FROM paid GROUP BY 1, 2 ORDER BY 1, 2`,
    params,
  );
  const clientSpend = await db.query(
    `WITH ${PAID.replace("p.paid_at)", "p.paid_at, p.client_id)").replace("SELECT p.amount_cents", "SELECT p.client_id, p.amount_cents")},
          per AS (SELECT client_id, sum(amount_cents) AS spent FROM paid GROUP BY client_id)
     SELECT count(*)::int AS clients,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY spent)::int AS "medianSpendCents",
            percentile_cont(0.9) WITHIN GROUP (ORDER BY spent)::int AS "p90SpendCents",
            percentile_cont(0.99) WITHIN GROUP (ORDER BY spent)::int AS "p99SpendCents"
       FROM per`,
    params,
  );
  const history = await revenueHistory(db);
  return {
    report: "revenue",
    range,
    asOf: ANCHOR_DATE,
    daily,
    previous: previous[0],
    byCategory,
    byMethod,
    topBarbers,
    topShops,
    heatmap,
    clientSpend: clientSpend[0],
    ...history,
  };
}

/**
 * GET /api/v2/analytics/clients?range=30d — client analytics: new vs returning clients, monthly
 * retention cohorts over the whole history, visit frequency and no-show rates.
 */
export async function clientAnalytics(db: Queryable, range: AnalyticsRange): Promise<unknown> {
  const days = ANALYTICS_RANGES[range];
  const params = [ANCHOR_DATE, days];
  const [summary] = await db.query(
    `WITH firsts AS (SELECT client_id, min(starts_at) AS first_visit FROM appointments
                      WHERE status = 'completed' GROUP BY client_id),
          active AS (SELECT DISTINCT client_id FROM appointments
                      WHERE status = 'completed' AND starts_at >= $1::date - $2::int AND starts_at < $1::date)
     SELECT count(*)::int AS "activeClients",
            count(*) FILTER (WHERE f.first_visit >= $1::date - $2::int)::int AS "newClients",
            count(*) FILTER (WHERE f.first_visit < $1::date - $2::int)::int AS "returningClients"
       FROM active JOIN firsts f USING (client_id)`,
    params,
  );
  const cohorts = await db.query(
    `WITH visits AS (SELECT client_id, date_trunc('month', starts_at) AS month FROM appointments WHERE status = 'completed'),
          firsts AS (SELECT client_id, min(month) AS cohort FROM visits GROUP BY client_id),
          activity AS (SELECT DISTINCT f.cohort, v.month, v.client_id FROM visits v JOIN firsts f USING (client_id))
     SELECT to_char(cohort, 'YYYY-MM') AS cohort, to_char(month, 'YYYY-MM') AS month, count(*)::int AS clients
       FROM activity GROUP BY cohort, month ORDER BY cohort, month`,
    [],
  );
  const frequency = await db.query(
    `WITH per AS (SELECT client_id, count(*) FILTER (WHERE status = 'completed') AS visits,
                         count(*) FILTER (WHERE status = 'no_show') AS no_shows
                    FROM appointments WHERE starts_at >= $1::date - $2::int AND starts_at < $1::date GROUP BY client_id)
     SELECT least(visits, 5)::int AS visits, count(*)::int AS clients,
            round(avg(no_shows)::numeric, 3)::float AS "avgNoShows"
       FROM per GROUP BY 1 ORDER BY 1`,
    params,
  );
  const [churn] = await db.query(
    `WITH v AS (SELECT client_id, starts_at,
                       starts_at - lag(starts_at) OVER (PARTITION BY client_id ORDER BY starts_at) AS gap
                  FROM appointments WHERE status = 'completed' AND starts_at < $1::date),
          per AS (SELECT client_id, max(starts_at) AS last_visit, avg(extract(epoch FROM gap) / 86400) AS avg_gap_days
                    FROM v GROUP BY client_id)
     SELECT count(*)::int AS clients,
            count(*) FILTER (WHERE $1::date - last_visit::date > 2 * coalesce(avg_gap_days, $2::int))::int AS "atRisk",
            round(avg(avg_gap_days)::numeric, 1)::float AS "avgDaysBetweenVisits"
       FROM per`,
    params,
  );
  const lifetimeValueByCity = await db.query(
    `WITH per AS (SELECT a.client_id, u.city, sum(a.price_cents) AS spent, count(*) AS visits
                    FROM appointments a JOIN users u ON u.id = a.client_id
                   WHERE a.status = 'completed' AND a.starts_at < $1::date GROUP BY a.client_id, u.city)
     SELECT city, count(*)::int AS clients, round(avg(spent))::bigint::text AS "avgLifetimeValueCents",
            percentile_cont(0.5) WITHIN GROUP (ORDER BY visits)::float AS "medianVisits"
       FROM per GROUP BY city ORDER BY city`,
    [ANCHOR_DATE],
  );
  return {
    report: "clients",
    range,
    asOf: ANCHOR_DATE,
    summary,
    cohorts,
    frequency,
    churn,
    lifetimeValueByCity,
  };
}

/** The whole history, for the trend lines under every revenue report: by category, and shop rank movement. */
async function revenueHistory(
  db: Queryable,
): Promise<{ monthlyByCategory: unknown; shopRankHistory: unknown }> {
  const monthlyByCategory = await db.query(
    `SELECT to_char(date_trunc('month', p.paid_at), 'YYYY-MM') AS month, s.category,
            sum(p.amount_cents)::bigint::text AS "revenueCents", count(*)::int AS payments
       FROM payments p JOIN appointments a ON a.id = p.appointment_id JOIN services s ON s.id = a.service_id
      WHERE p.paid_at < $1::date
      GROUP BY 1, 2 ORDER BY 1, 2`,
    [ANCHOR_DATE],
  );
  const shopRankHistory = await db.query(
    `WITH monthly AS (SELECT date_trunc('month', p.paid_at) AS month, b.shop_id, sum(p.amount_cents) AS revenue
                        FROM payments p JOIN appointments a ON a.id = p.appointment_id JOIN barbers b ON b.id = a.barber_id
                       WHERE p.paid_at < $1::date GROUP BY 1, 2),
          ranked AS (SELECT month, shop_id, rank() OVER (PARTITION BY month ORDER BY revenue DESC) AS rank FROM monthly),
          best AS (SELECT shop_id FROM ranked GROUP BY shop_id ORDER BY avg(rank), shop_id LIMIT 10)
     SELECT r.shop_id AS "shopId", to_char(r.month, 'YYYY-MM') AS month, r.rank::int
       FROM ranked r JOIN best USING (shop_id) ORDER BY r.shop_id, r.month`,
    [ANCHOR_DATE],
  );
  return { monthlyByCategory, shopRankHistory };
}
