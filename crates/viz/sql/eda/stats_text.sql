count({column})::int8, 0::int8, NULL::float8, NULL::float8
