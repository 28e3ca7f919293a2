-- Per pickup zone of the chosen services ($3), months and borough ($4): trips, revenue and
-- the card figures of the tip rate.
SELECT a.pu_zone_id AS zone_id, sum(a.trips)::int8 AS trips, sum(a.revenue)::float8 AS revenue,
       sum(a.card_fare_sum)::float8 AS card_fare, sum(a.card_tip_sum)::float8 AS card_tip
FROM mart.agg_zone_month a
LEFT JOIN mart.dim_zone z ON z.zone_id = a.pu_zone_id
WHERE a.month_id BETWEEN $1 AND $2 AND ($3::int2[] IS NULL OR a.service_id = ANY($3))
  AND ($4::int IS NULL OR z.borough_id = $4)
GROUP BY a.pu_zone_id
