-- Trips per service and day, date_id in [$1, $2), services $3 (NULL: all), pickup borough $4
-- (NULL: all).
SELECT service_id, date_id, sum(trips)::int8 AS trips
FROM mart.agg_daily
WHERE date_id >= $1 AND date_id < $2 AND ($3::int2[] IS NULL OR service_id = ANY($3))
  AND ($4::int IS NULL OR pu_borough_id = $4)
GROUP BY 1, 2
ORDER BY service_id, date_id
