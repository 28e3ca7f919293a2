-- The months the mart holds aggregates for, of the chosen services ($1, NULL: all): the
-- dashboard's default period.
SELECT min(date_id) / 100 AS first_month_id, max(date_id) / 100 AS last_month_id
FROM mart.agg_daily
WHERE $1::int2[] IS NULL OR service_id = ANY($1)
