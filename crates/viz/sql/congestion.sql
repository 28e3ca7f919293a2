-- Congestion pricing (from 2025-01-05): per service and month, for date_id in [$1, $2), services
-- $3 (NULL: all), pickups in borough $4 (NULL: all), the trips, the trips charged
-- cbd_congestion_fee and the fee's total. Months where no trip was charged are left out.
SELECT service_id, date_id / 100 AS month_id, sum(trips)::int8 AS trips, sum(cbd_trips)::int8 AS cbd_trips,
       sum(cbd_fee_sum)::float8 AS cbd_fee
FROM mart.agg_daily
WHERE date_id >= $1 AND date_id < $2 AND ($3::int2[] IS NULL OR service_id = ANY($3))
  AND ($4::int IS NULL OR pu_borough_id = $4)
GROUP BY 1, 2
HAVING sum(cbd_trips) > 0
ORDER BY 2, 1
