-- The quantiles ($4: their fractions) of each numeric and timestamp column (seconds since
-- the epoch) of one month ($1), one row (subject: the column, measure: the quantile's name,
-- value) per figure; $5 and $6 name the figures in the order of {quantiles} (quantile.sql
-- over the value_*.sql of each column, concatenated). $2 is the share of the month's pages
-- read, in percent (TABLESAMPLE SYSTEM: whole pages; 100 reads every row), $3 the seed, so
-- that month_histograms.sql reads the very same sample. (Comment lines are dropped before
-- the placeholders are filled.)
SELECT f.subject, f.measure, f.value
FROM (
    SELECT {quantiles} AS v
    FROM raw.{table} AS m TABLESAMPLE SYSTEM ($2::float4) REPEATABLE ($3::float8)
    WHERE m.source_month = $1::date
) AS t
CROSS JOIN LATERAL unnest($5::text[], $6::text[], t.v) AS f(subject, measure, value)
