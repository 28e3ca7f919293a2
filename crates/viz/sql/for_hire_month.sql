-- Per for-hire service and month in [$1, $2], of the pickups in borough $3 (NULL: every
-- borough): the trips, driver pay / base passenger fare, and the share of trips that requested
-- a shared ride (NULL where the files record none).
SELECT service_id, month_id, sum(trips)::int8 AS trips,
       (sum(driver_pay_sum) / nullif(sum(base_fare_sum), 0))::float8 AS driver_pay_share,
       (sum(shared_request_trips)::numeric / nullif(sum(trips), 0))::float8 AS shared_share
FROM mart.agg_for_hire_month
WHERE month_id BETWEEN $1 AND $2 AND ($3::int IS NULL OR pu_borough_id = $3)
GROUP BY 1, 2
ORDER BY 1, 2
