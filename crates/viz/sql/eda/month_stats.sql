-- One pass over every row of one month ($1, its first day) of a raw table: every figure of
-- the month as a row (subject, measure, value). {figures} holds the figures' aggregates
-- and $2, $3 their subjects and measures, in the same order (atl_viz::query::eda::sql):
-- the month's rows, each column's non-null and negative counts, min and max, each anomaly's
-- rows, the rows with any anomaly. Counts are float8, exact below 2^53 rows.
-- Placeholders, replaced by SQL built from quoted identifiers only: {table} the raw table,
-- {flags} each anomaly's test named by its key (NULL::boolean when the table lacks the
-- column it is about).
SELECT f.subject, f.measure, f.value
FROM (
    SELECT ARRAY[{figures}] AS v
    FROM (
        -- A flag is NULL when its column is: nulls are counted by the null rates, not here.
        SELECT m.*,
               {flags}
        FROM raw.{table} AS m
        WHERE m.source_month = $1::date
    ) AS m
) AS t
CROSS JOIN LATERAL unnest($2::text[], $3::text[], t.v) AS f(subject, measure, value)
