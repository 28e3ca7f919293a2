SELECT coalesce(z.name, 'Zone ' || a.pu_zone_id) AS zone, sum(a.trips)::int8 AS trips
FROM mart.agg_zone_month a
LEFT JOIN mart.dim_zone z ON z.zone_id = a.pu_zone_id
WHERE a.month_id BETWEEN $1 AND $2 AND ($3::int2[] IS NULL OR a.service_id = ANY($3))
  AND ($4::int IS NULL OR z.borough_id = $4)
GROUP BY a.pu_zone_id, z.name
ORDER BY 2 DESC, a.pu_zone_id
LIMIT 15
