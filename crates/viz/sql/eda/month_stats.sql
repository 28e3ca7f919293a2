-- One pass over every row of one month ($1, its first day) of a raw table: the row count,
-- then four figures per column in column-list order (stats_*.sql: non-null rows, negative
-- values, min, max), then the anomaly counts in the order of atl_viz::eda::ANOMALIES.
-- Placeholders, replaced by quoted identifiers only: {table} the raw table, {pickup} and
-- {dropoff} the timestamp columns, {amounts} the money columns, {columns} the stats_*.sql
-- fragments of every column.
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
           least({amounts}) < 0                                                AS negative_amount,
           m."trip_distance" = 0                                               AS zero_distance,
           m.{pickup} < $1::date OR m.{pickup} >= $1::date + interval '1 month' AS out_of_month,
           m.{dropoff} < m.{pickup}                                            AS dropoff_before_pickup,
           m."vendorid" NOT IN (1, 2, 6, 7)                                    AS unknown_vendor,
           m."ratecodeid" NOT IN (1, 2, 3, 4, 5, 6, 99)                        AS unknown_ratecode,
           m."payment_type" NOT IN (0, 1, 2, 3, 4, 5, 6)                       AS unknown_payment_type,
           m."pulocationid" NOT BETWEEN 1 AND 265                              AS unknown_pickup_zone,
           m."dolocationid" NOT BETWEEN 1 AND 265                              AS unknown_dropoff_zone
    FROM raw.{table} AS m
    WHERE m.source_month = $1::date
) AS m
