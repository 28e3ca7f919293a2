extract(epoch FROM {column})::float8
