-- The KPI tiles, the chosen services ($3, NULL: all) together, for date_id in [$1, $2), of the
-- trips picked up in borough $4 (NULL: every borough).
-- Ratios are taken in numeric and cast once, so they equal the same SQL run by hand.
SELECT coalesce(sum(trips), 0)::int8                                           AS trips,
       coalesce(sum(revenue), 0)::float8                                       AS revenue,
       (sum(fare_sum) / nullif(sum(trips), 0))::float8                         AS avg_fare,
       (sum(card_tip_sum) / nullif(sum(card_fare_sum), 0))::float8             AS tip_rate,
       (sum(duration_sec_sum)::numeric / nullif(sum(trips), 0))::float8        AS avg_duration_sec,
       (sum(distance_sum) / nullif(sum(duration_sec_sum) / 3600.0, 0))::float8 AS avg_speed_mph,
       (sum(airport_trips)::numeric / nullif(sum(trips), 0))::float8           AS airport_share
FROM mart.agg_daily
WHERE date_id >= $1 AND date_id < $2 AND ($3::int2[] IS NULL OR service_id = ANY($3))
  AND ($4::int IS NULL OR pu_borough_id = $4)
