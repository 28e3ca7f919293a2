-- Rows per month of the chosen services ($1, NULL: all) over the whole mart (not just the
-- period), from each month's latest build.
SELECT month_id, sum(fact_rows)::int8 AS fact_rows, sum(rejected_rows)::int8 AS rejected_rows
FROM (
    SELECT DISTINCT ON (service_id, month_id) service_id, month_id, fact_rows, rejected_rows
    FROM mart.build_log
    WHERE $1::int2[] IS NULL OR service_id = ANY($1)
    ORDER BY service_id, month_id, built_at DESC
) latest
GROUP BY month_id
ORDER BY month_id
