count({column})::int8, 0::int8, extract(epoch FROM min({column}))::float8, extract(epoch FROM max({column}))::float8
