coalesce(percentile_cont($4::float8[]) WITHIN GROUP (ORDER BY {value}), array_fill(NULL::float8, ARRAY[cardinality($4::float8[])]))
