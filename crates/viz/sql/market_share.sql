-- Trips per service and month, every service, for month_id in [$1, $2], of the pickups in
-- borough $3 (NULL: every borough).
SELECT service_id, date_id / 100 AS month_id, sum(trips)::int8 AS trips
FROM mart.agg_daily
WHERE date_id / 100 BETWEEN $1 AND $2 AND ($3::int IS NULL OR pu_borough_id = $3)
GROUP BY 1, 2
ORDER BY 2, 1
