-- Trips per 30-second wait bin, per service and pickup hour, over month_id in [$1, $2], of the
-- pickups in borough $3 (NULL: every borough).
SELECT service_id, hour, wait_bin, sum(trips)::int8 AS trips
FROM mart.agg_wait_hour
WHERE month_id BETWEEN $1 AND $2 AND ($3::int IS NULL OR pu_borough_id = $3)
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
