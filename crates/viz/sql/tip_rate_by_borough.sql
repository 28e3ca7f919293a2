-- Tip rate on card payments (cash tips are not recorded), by pickup borough ($4: one
-- borough, NULL: all), with the trips it rests on so thin rates can be set aside.
SELECT coalesce(b.name, 'Unknown') AS borough, (sum(a.card_tip_sum) / sum(a.card_fare_sum))::float8 AS tip_rate,
       sum(a.trips)::int8 AS trips
FROM mart.agg_zone_month a
LEFT JOIN mart.dim_zone z ON z.zone_id = a.pu_zone_id
LEFT JOIN mart.dim_borough b ON b.borough_id = z.borough_id
WHERE a.month_id BETWEEN $1 AND $2 AND ($3::int2[] IS NULL OR a.service_id = ANY($3))
  AND ($4::int IS NULL OR z.borough_id = $4)
GROUP BY 1
HAVING sum(a.card_fare_sum) > 0
ORDER BY 2 DESC, 1
