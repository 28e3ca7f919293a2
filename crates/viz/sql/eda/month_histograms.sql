-- Histograms of one month ($1) on the sample of month_quantiles.sql ($2 percent of the
-- pages, seed $3): each numeric or timestamp value, unpivoted in column-list order ({values}:
-- value_*.sql of each column), falls in bucket 1..$6[i] of [$4[i], $5[i]); bucket 0 is below
-- the range and $6[i] + 1 above it. One scan of the sample for every column.
SELECT v.i::int4,
       width_bucket(v.x, ($4::float8[])[v.i::int4], ($5::float8[])[v.i::int4], ($6::int4[])[v.i::int4])::int4,
       count(*)::int8
FROM raw.{table} AS m TABLESAMPLE SYSTEM ($2::float4) REPEATABLE ($3::float8)
CROSS JOIN LATERAL unnest(ARRAY[{values}]::float8[]) WITH ORDINALITY AS v(x, i)
WHERE m.source_month = $1::date
  AND v.x IS NOT NULL
GROUP BY 1, 2
ORDER BY 1, 2
