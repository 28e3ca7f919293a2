-- Pickups per pickup zone and service of the chosen services ($3, NULL: all) for month_id in
-- [$1, $2], with the zone's borough: the market-share map and table. Every borough: the page
-- marks a chosen one rather than leaving the others out, so that it reads against them.
SELECT a.pu_zone_id AS zone_id, coalesce(b.name, 'Unknown') AS borough, a.service_id AS service,
       sum(a.trips)::int8 AS trips
FROM mart.agg_zone_month a
LEFT JOIN mart.dim_zone z ON z.zone_id = a.pu_zone_id
LEFT JOIN mart.dim_borough b ON b.borough_id = z.borough_id
WHERE a.month_id BETWEEN $1 AND $2 AND ($3::int2[] IS NULL OR a.service_id = ANY($3))
GROUP BY 1, 2, 3
HAVING sum(a.trips) > 0
ORDER BY 1, 3
