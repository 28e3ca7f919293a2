SELECT reason, sum(rows)::int8
FROM mart.rejects
WHERE month_id BETWEEN $1 AND $2
GROUP BY reason
ORDER BY 2 DESC, reason
