-- Average fare per 0.5-mile bin; bins beyond 30 miles are too thin to read.
SELECT service_id, distance_bin::float8 AS distance_bin, (sum(fare_sum) / sum(trips))::float8 AS avg_fare,
       sum(trips)::int8 AS trips
FROM mart.agg_fare_distance
WHERE month_id BETWEEN $1 AND $2 AND distance_bin <= 30 AND ($3::int2[] IS NULL OR service_id = ANY($3))
  AND ($4::int IS NULL OR pu_borough_id = $4)
GROUP BY 1, 2
HAVING sum(trips) > 0
ORDER BY 1, 2
