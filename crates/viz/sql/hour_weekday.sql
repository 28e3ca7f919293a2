SELECT weekday, hour, sum(trips)::int8 AS trips
FROM mart.agg_hour_weekday
WHERE month_id BETWEEN $1 AND $2 AND ($3::int2[] IS NULL OR service_id = ANY($3))
  AND ($4::int IS NULL OR pu_borough_id = $4)
GROUP BY 1, 2
