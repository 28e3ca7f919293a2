-- The data columns of a warehouse raw table ($1: its name, yellow_tripdata, fhvhv_tripdata...),
-- in table order, with their types. The lineage columns (source_month, source_key, source_row) are
-- left out: they describe the load, not the trips.
SELECT column_name::text AS name, data_type::text AS data_type
FROM information_schema.columns
WHERE table_schema = 'raw'
  AND table_name = $1
  AND column_name NOT IN ('source_month', 'source_key', 'source_row')
ORDER BY ordinal_position
