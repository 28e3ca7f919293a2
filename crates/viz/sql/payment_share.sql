SELECT coalesce(p.name, 'Type ' || a.payment_type_id), sum(a.trips)::int8
FROM mart.agg_payment_month a
LEFT JOIN mart.dim_payment_type p ON p.payment_type_id = a.payment_type_id
WHERE a.month_id BETWEEN $1 AND $2
GROUP BY a.payment_type_id, p.name
ORDER BY 2 DESC, a.payment_type_id
