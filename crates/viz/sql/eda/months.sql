-- The months of a kind ($1) the warehouse holds, between $2 and $3 (first days; NULL: no
-- bound), with the row count of each load. raw.load_log is written in the transaction that
-- attaches a month's partition, so it lists exactly the months present.
SELECT month, rows
FROM raw.load_log
WHERE kind = $1
  AND ($2::date IS NULL OR month >= $2::date)
  AND ($3::date IS NULL OR month <= $3::date)
ORDER BY month
