SELECT service_id, date_id, trips
FROM mart.agg_daily
WHERE date_id >= $1 AND date_id < $2 AND ($3::int2[] IS NULL OR service_id = ANY($3))
ORDER BY service_id, date_id
