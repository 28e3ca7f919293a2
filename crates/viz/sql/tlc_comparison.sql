-- Per month of the period and TLC licence class of the chosen services ($3): the TLC's
-- figures (ref_tlc_indicator), ours on the TLC's definition (agg_month_recorded: every row
-- picked up in the month; farebox = total - tips) and ours after cleaning (agg_daily;
-- farebox = total - card tips, the only tips the meters record).
WITH services AS (
    SELECT s.service_id, l.licence_class
    FROM mart.dim_service s
    JOIN mart.ref_licence_class l ON l.service_name = s.name
    WHERE $3::int2[] IS NULL OR s.service_id = ANY($3)
), recorded AS (
    SELECT r.month_id, s.licence_class, sum(r.trips) AS trips,
           sum(r.total_amount_sum - r.tip_amount_sum) AS farebox
    FROM mart.agg_month_recorded r JOIN services s USING (service_id)
    WHERE r.month_id BETWEEN $1 AND $2
    GROUP BY 1, 2
), cleaned AS (
    SELECT d.date_id / 100 AS month_id, s.licence_class, sum(d.trips) AS trips,
           sum(d.revenue - d.card_tip_sum) AS farebox
    FROM mart.agg_daily d JOIN services s USING (service_id)
    WHERE d.date_id / 100 BETWEEN $1 AND $2
    GROUP BY 1, 2
)
SELECT month_id, licence_class,
       t.trips_per_day::float8 AS tlc_trips_per_day, t.farebox_per_day::float8 AS tlc_farebox_per_day,
       r.trips::int8 AS recorded_trips, r.farebox::float8 AS recorded_farebox,
       c.trips::int8 AS cleaned_trips, c.farebox::float8 AS cleaned_farebox
FROM cleaned c
FULL JOIN recorded r USING (month_id, licence_class)
LEFT JOIN mart.ref_tlc_indicator t USING (month_id, licence_class)
ORDER BY month_id, licence_class
