-- The months the mart holds aggregates for: the dashboard's default period.
SELECT min(date_id) / 100, max(date_id) / 100 FROM mart.agg_daily
