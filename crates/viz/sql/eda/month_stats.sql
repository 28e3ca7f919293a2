-- One pass over every row of one month ($1, its first day) of a raw table: the row count,
-- then four figures per column in column-list order (stats_*.sql: non-null rows, negative
-- values, min, max), then the anomaly counts in the order of atl_viz::eda::ANOMALIES.
-- Placeholders, replaced by SQL built from quoted identifiers only: {table} the raw table,
-- {columns} the stats_*.sql fragments of every column, and one per anomaly, its test (or
-- NULL::boolean when the table lacks the column it is about: atl_viz::eda::Queries).
SELECT count(*)::int8,
       {columns},
       count(*) FILTER (WHERE negative_amount)::int8,
       count(*) FILTER (WHERE zero_distance)::int8,
       count(*) FILTER (WHERE out_of_month)::int8,
       count(*) FILTER (WHERE dropoff_before_pickup)::int8,
       count(*) FILTER (WHERE unknown_vendor)::int8,
       count(*) FILTER (WHERE unknown_ratecode)::int8,
       count(*) FILTER (WHERE unknown_payment_type)::int8,
       count(*) FILTER (WHERE unknown_pickup_zone)::int8,
       count(*) FILTER (WHERE unknown_dropoff_zone)::int8,
       count(*) FILTER (WHERE negative_amount OR zero_distance OR out_of_month OR dropoff_before_pickup
                           OR unknown_vendor OR unknown_ratecode OR unknown_payment_type
                           OR unknown_pickup_zone OR unknown_dropoff_zone)::int8
FROM (
    -- A flag is NULL when its column is: nulls are counted by the null rates, not here.
    SELECT m.*,
           {negative_amount}       AS negative_amount,
           {zero_distance}         AS zero_distance,
           {out_of_month}          AS out_of_month,
           {dropoff_before_pickup} AS dropoff_before_pickup,
           {unknown_vendor}        AS unknown_vendor,
           {unknown_ratecode}      AS unknown_ratecode,
           {unknown_payment_type}  AS unknown_payment_type,
           {unknown_pickup_zone}   AS unknown_pickup_zone,
           {unknown_dropoff_zone}  AS unknown_dropoff_zone
    FROM raw.{table} AS m
    WHERE m.source_month = $1::date
) AS m
