SELECT service_id, date_id / 100 AS month_id, sum(revenue)::float8 AS revenue
FROM mart.agg_daily
WHERE date_id >= $1 AND date_id < $2 AND ($3::int2[] IS NULL OR service_id = ANY($3))
  AND ($4::int IS NULL OR pu_borough_id = $4)
GROUP BY 1, 2
ORDER BY 2, 1
