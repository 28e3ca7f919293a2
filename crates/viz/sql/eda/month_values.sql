-- The values of each text column of one month ($1) and their rows, on the sample of
-- month_quantiles.sql ($2 percent of the pages, seed $3); {columns}: the quoted text
-- columns, unpivoted in column-list order, grouped by ordinal and named by $4[i] once per
-- group. Most frequent first.
SELECT ($4::text[])[t.i] AS subject, t.value, t.rows
FROM (
    SELECT v.i::int4 AS i, v.x AS value, count(*)::int8 AS rows
    FROM raw.{table} AS m TABLESAMPLE SYSTEM ($2::float4) REPEATABLE ($3::float8)
    CROSS JOIN LATERAL unnest(ARRAY[{columns}]::text[]) WITH ORDINALITY AS v(x, i)
    WHERE m.source_month = $1::date
      AND v.x IS NOT NULL
    GROUP BY 1, 2
) AS t
ORDER BY t.i, t.rows DESC, t.value
