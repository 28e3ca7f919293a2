{column}::float8
