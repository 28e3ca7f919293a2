-- Histograms of one month ($1) on the sample of month_quantiles.sql ($2 percent of the
-- pages, seed $3): each numeric or timestamp value, unpivoted in column-list order ({values}:
-- value_*.sql of each column), falls in bucket 1..$7[i] of [$5[i], $6[i]); bucket 0 is below
-- the range and $7[i] + 1 above it. One scan of the sample for every column, grouped by the
-- value's ordinal (cheaper per row than its name), named by $4[i] once per group.
SELECT ($4::text[])[h.i] AS subject, h.bucket, h.rows
FROM (
    SELECT v.i::int4 AS i,
           width_bucket(v.x, ($5::float8[])[v.i::int4], ($6::float8[])[v.i::int4], ($7::int4[])[v.i::int4])::int4 AS bucket,
           count(*)::int8 AS rows
    FROM raw.{table} AS m TABLESAMPLE SYSTEM ($2::float4) REPEATABLE ($3::float8)
    CROSS JOIN LATERAL unnest(ARRAY[{values}]::float8[]) WITH ORDINALITY AS v(x, i)
    WHERE m.source_month = $1::date
      AND v.x IS NOT NULL
    GROUP BY 1, 2
) AS h
ORDER BY h.i, h.bucket
