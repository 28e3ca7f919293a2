-- The values of each text column of one month ($1) and their rows, on the sample of
-- month_quantiles.sql ($2 percent of the pages, seed $3); {columns}: the quoted text
-- columns, unpivoted beside their names ($4). Most frequent first.
SELECT v.subject, v.x AS value, count(*)::int8 AS rows
FROM raw.{table} AS m TABLESAMPLE SYSTEM ($2::float4) REPEATABLE ($3::float8)
CROSS JOIN LATERAL unnest(ARRAY[{columns}]::text[], $4::text[]) AS v(x, subject)
WHERE m.source_month = $1::date
  AND v.x IS NOT NULL
GROUP BY 1, 2
ORDER BY 1, 3 DESC, 2
