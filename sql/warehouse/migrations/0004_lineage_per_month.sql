-- Lineage per month instead of per row: the lake object a month was read from is
-- raw.load_log.object_key (one object per month), so the object key repeated as text on every
-- row (about 46 bytes a row, a fifth of the row) goes; source_row, the row's position in
-- that object, stays. Dropping a column is a catalog change (no rewrite of the months
-- already loaded; their space comes back when they are reloaded).
--
-- From this version on, a month's partition is itself partitioned by range of source_row
-- (see crates/core/src/raw.rs): the loader fills its parts over parallel connections and
-- attaches them in the transaction that swaps the month in. Months loaded before keep
-- their single table; both kinds of partition live side by side under the parent.
ALTER TABLE raw.yellow_tripdata DROP COLUMN source_key;
ALTER TABLE raw.green_tripdata DROP COLUMN source_key;
ALTER TABLE raw.fhvhv_tripdata DROP COLUMN source_key;
ALTER TABLE raw.fhv_tripdata DROP COLUMN source_key;
