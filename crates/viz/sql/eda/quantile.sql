percentile_cont(ARRAY[0.01, 0.25, 0.5, 0.75, 0.99]::float8[]) WITHIN GROUP (ORDER BY {value})
