-- p1, p25, p50, p75, p99 of each numeric and timestamp column (seconds since the epoch) of
-- one month ($1), one float8[] per column. $2 is the share of the month's pages read, in
-- percent (TABLESAMPLE SYSTEM: whole pages; 100 reads every row), $3 the seed, so that
-- month_histograms.sql reads the very same sample. {quantiles}: quantile.sql over the
-- value_*.sql of each column. (Comment lines are dropped before the placeholders are filled.)
SELECT {quantiles}
FROM raw.{table} AS m TABLESAMPLE SYSTEM ($2::float4) REPEATABLE ($3::float8)
WHERE m.source_month = $1::date
