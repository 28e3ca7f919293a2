-- Histograms of one month ($1) on the sample of month_quantiles.sql ($2 percent of the
-- pages, seed $3): each numeric or timestamp value ({values}: value_*.sql of each column),
-- unpivoted beside its column's name ($4) and bins ($5 lower bound, $6 upper bound, $7
-- count), falls in bucket 1..bins of [lo, hi); bucket 0 is below the range and bins + 1
-- above it. One scan of the sample for every column.
SELECT v.subject, width_bucket(v.x, v.lo, v.hi, v.bins)::int4 AS bucket, count(*)::int8 AS rows
FROM raw.{table} AS m TABLESAMPLE SYSTEM ($2::float4) REPEATABLE ($3::float8)
CROSS JOIN LATERAL unnest(ARRAY[{values}]::float8[], $4::text[], $5::float8[], $6::float8[], $7::int4[])
    AS v(x, subject, lo, hi, bins)
WHERE m.source_month = $1::date
  AND v.x IS NOT NULL
GROUP BY 1, 2
ORDER BY 1, 2
