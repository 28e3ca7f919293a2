-- Fills mart.staging_trip from the warehouse server through postgres_fdw: the psql path to
-- what `atl-mart build` does with binary COPY. Run on the MART server, after creation.sql;
-- then run insertion.sql with the same settings (order: README.md).
--
--     psql "$MART_URL" -v ON_ERROR_STOP=1 \
--          -v wh_host=127.0.0.1 -v wh_port=15432 -v wh_db=postgres -v wh_user=postgres -v wh_password= \
--          -c "SELECT set_config('atl.month', '2023-01-01', false), set_config('atl.service', 'yellow', false)" \
--          -f sql/mart/staging_fdw.sql -f sql/mart/insertion.sql
--
-- The zone table goes into mart.staging_zone with psql's \copy (README.md).

CREATE EXTENSION IF NOT EXISTS postgres_fdw;

DROP SERVER IF EXISTS atl_warehouse CASCADE;
CREATE SERVER atl_warehouse FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host :'wh_host', port :'wh_port', dbname :'wh_db', fetch_size '50000');
CREATE USER MAPPING FOR CURRENT_USER SERVER atl_warehouse
    OPTIONS (user :'wh_user', password :'wh_password');

CREATE SCHEMA IF NOT EXISTS warehouse_raw;
DROP FOREIGN TABLE IF EXISTS warehouse_raw.yellow_tripdata, warehouse_raw.green_tripdata;
IMPORT FOREIGN SCHEMA raw LIMIT TO (yellow_tripdata, green_tripdata) FROM SERVER atl_warehouse INTO warehouse_raw;

TRUNCATE mart.staging_trip;

-- The same mapping as atl-mart's transfer: one shape for both services.
INSERT INTO mart.staging_trip
SELECT source_month, source_row, vendorid, tpep_pickup_datetime, tpep_dropoff_datetime,
       passenger_count, trip_distance, ratecodeid, store_and_fwd_flag, pulocationid, dolocationid,
       payment_type, fare_amount, extra, mta_tax, tip_amount, tolls_amount, improvement_surcharge,
       total_amount, congestion_surcharge, airport_fee, cbd_congestion_fee, NULL, NULL
FROM warehouse_raw.yellow_tripdata
WHERE current_setting('atl.service') = 'yellow' AND source_month = current_setting('atl.month')::date;

INSERT INTO mart.staging_trip
SELECT source_month, source_row, vendorid, lpep_pickup_datetime, lpep_dropoff_datetime,
       passenger_count, trip_distance, ratecodeid, store_and_fwd_flag, pulocationid, dolocationid,
       payment_type, fare_amount, extra, mta_tax, tip_amount, tolls_amount, improvement_surcharge,
       total_amount, congestion_surcharge, NULL, cbd_congestion_fee, ehail_fee, trip_type
FROM warehouse_raw.green_tripdata
WHERE current_setting('atl.service') = 'green' AND source_month = current_setting('atl.month')::date;
