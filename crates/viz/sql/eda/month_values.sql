-- The values of each text column of one month ($1) and their rows, on the sample of
-- month_quantiles.sql ($2 percent of the pages, seed $3); {columns}: the quoted text
-- columns, unpivoted in column-list order. Most frequent first.
SELECT v.i::int4, v.x, count(*)::int8
FROM raw.{table} AS m TABLESAMPLE SYSTEM ($2::float4) REPEATABLE ($3::float8)
CROSS JOIN LATERAL unnest(ARRAY[{columns}]::text[]) WITH ORDINALITY AS v(x, i)
WHERE m.source_month = $1::date
  AND v.x IS NOT NULL
GROUP BY 1, 2
ORDER BY 1, 3 DESC, 2
