-- Per for-hire service and month in [$1, $2]: driver pay / base passenger fare, and the share
-- of trips that requested a shared ride (NULL where the files record none).
SELECT service_id, month_id,
       (driver_pay_sum / nullif(base_fare_sum, 0))::float8 AS driver_pay_share,
       (shared_request_trips::numeric / nullif(trips, 0))::float8 AS shared_share
FROM mart.agg_for_hire_month
WHERE month_id BETWEEN $1 AND $2
ORDER BY 1, 2
