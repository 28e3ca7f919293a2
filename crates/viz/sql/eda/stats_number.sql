count({column})::int8, count(*) FILTER (WHERE {column} < 0)::int8, min({column})::float8, max({column})::float8
