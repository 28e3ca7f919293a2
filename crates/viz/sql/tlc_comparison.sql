-- Per month of the period and TLC licence class of the chosen services ($3): the TLC's
-- figures (ref_tlc_indicator; a class of ref_licence_class_part is the sum of the report's
-- classes that make it, and has no figure in a month where one of them is missing), ours on
-- the TLC's definition (agg_month_recorded: every row picked up in the month; farebox =
-- total - tips of card trips, NULL where the rows record no card tips: for-hire services, and
-- months built before mart migration 0011) and ours after cleaning (agg_daily; farebox =
-- total - card tips, the only tips the meters record; none for a month without card trips:
-- for-hire rows record no payment type, and their passenger totals are no farebox).
WITH services AS (
    -- A service's class by its name, else by its kind (a high-volume licence the mart does
    -- not name, or none: mart migration 0013).
    SELECT s.service_id, coalesce(n.licence_class, k.licence_class) AS licence_class
    FROM mart.dim_service s
    LEFT JOIN mart.ref_licence_class n ON n.service_name = s.name
    LEFT JOIN mart.ref_licence_class k ON k.service_name = s.kind
    WHERE coalesce(n.licence_class, k.licence_class) IS NOT NULL
      AND ($3::int2[] IS NULL OR s.service_id = ANY($3))
), parts AS (
    SELECT report_class, licence_class, count(*) OVER (PARTITION BY licence_class) AS n
    FROM mart.ref_licence_class_part
), tlc AS (
    SELECT i.month_id, coalesce(p.licence_class, i.licence_class) AS licence_class,
           sum(i.trips_per_day) AS trips_per_day, sum(i.farebox_per_day) AS farebox_per_day,
           string_agg(i.licence_class, ' + ' ORDER BY i.licence_class) AS report_classes
    FROM mart.ref_tlc_indicator i LEFT JOIN parts p ON p.report_class = i.licence_class
    GROUP BY 1, 2
    HAVING count(*) = coalesce(max(p.n), 1)
), recorded AS (
    SELECT r.month_id, s.licence_class, sum(r.trips) AS trips,
           sum(r.total_amount_sum - r.card_tip_amount_sum) AS farebox
    FROM mart.agg_month_recorded r JOIN services s USING (service_id)
    WHERE r.month_id BETWEEN $1 AND $2
    GROUP BY 1, 2
), cleaned AS (
    SELECT d.date_id / 100 AS month_id, s.licence_class, sum(d.trips) AS trips,
           CASE WHEN sum(d.card_trips) > 0 THEN sum(d.revenue - d.card_tip_sum) END AS farebox
    FROM mart.agg_daily d JOIN services s USING (service_id)
    WHERE d.date_id / 100 BETWEEN $1 AND $2
    GROUP BY 1, 2
)
SELECT month_id, licence_class, t.report_classes,
       t.trips_per_day::float8 AS tlc_trips_per_day, t.farebox_per_day::float8 AS tlc_farebox_per_day,
       r.trips::int8 AS recorded_trips, r.farebox::float8 AS recorded_farebox,
       c.trips::int8 AS cleaned_trips, c.farebox::float8 AS cleaned_farebox
FROM cleaned c
FULL JOIN recorded r USING (month_id, licence_class)
LEFT JOIN tlc t USING (month_id, licence_class)
ORDER BY month_id, licence_class
