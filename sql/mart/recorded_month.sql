-- The staged month (atl.month, atl.service) on the TLC's definition: every row picked up in
-- the month, whatever the cleaning rules say of it, with its total_amount and tip_amount.
-- Run after insertion.sql, in the same session (the build lock still held, mart.staging_trip
-- still holding the month). Kept apart from insertion.sql: it is a figure for readers, not
-- part of the month's accounting.
-- Money: mart.round_cents, the mart's one rounding rule (migration 0004), cheap on whole cents.
INSERT INTO mart.agg_month_recorded AS r (service_id, month_id, trips, total_amount_sum, tip_amount_sum)
SELECT s.service_id,
       to_char(p.month, 'YYYYMM')::int,
       count(t.pickup_at),
       coalesce(sum(mart.round_cents(t.total_amount)), 0),
       coalesce(sum(mart.round_cents(t.tip_amount)), 0)
FROM (SELECT current_setting('atl.month')::date AS month) p
JOIN mart.dim_service s ON s.name = current_setting('atl.service')
LEFT JOIN mart.staging_trip t
       ON t.pickup_at >= p.month AND t.pickup_at < p.month + interval '1 month'
GROUP BY s.service_id, p.month
ON CONFLICT (service_id, month_id) DO UPDATE
SET trips = excluded.trips, total_amount_sum = excluded.total_amount_sum, tip_amount_sum = excluded.tip_amount_sum;
