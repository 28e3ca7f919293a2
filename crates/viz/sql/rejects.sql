SELECT reason, sum(rows)::int8 AS rows
FROM mart.rejects
WHERE month_id BETWEEN $1 AND $2 AND ($3::int2[] IS NULL OR service_id = ANY($3))
GROUP BY reason
ORDER BY 2 DESC, reason
