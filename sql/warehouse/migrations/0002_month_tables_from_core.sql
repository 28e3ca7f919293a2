-- A month's table is now created from atl-core's declaration of the kind (see
-- crates/core/src/raw.rs), no longer LIKE a "shape" table: the shape tables were a second
-- copy of every kind's columns that each column migration would have had to alter too.
-- ATTACH PARTITION still checks that the month's table and the parent agree.
DROP TABLE IF EXISTS raw.yellow_tripdata_shape;
DROP TABLE IF EXISTS raw.green_tripdata_shape;
