-- Null or unlisted codes (-1) and the code the TLC itself calls Unknown (5) are one
-- "unknown" to a reader: shown as one bar.
SELECT CASE WHEN a.payment_type_id IN (-1, 5) THEN 'Unknown (null or code 5)'
            ELSE coalesce(p.name, 'Type ' || a.payment_type_id) END AS payment_type,
       sum(a.trips)::int8 AS trips
FROM mart.agg_payment_month a
LEFT JOIN mart.dim_payment_type p ON p.payment_type_id = a.payment_type_id
WHERE a.month_id BETWEEN $1 AND $2 AND ($3::int2[] IS NULL OR a.service_id = ANY($3))
  AND ($4::int IS NULL OR a.pu_borough_id = $4)
GROUP BY 1
ORDER BY 2 DESC, 1
