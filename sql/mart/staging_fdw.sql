-- Fills mart.staging_trip (atl.service yellow or green) or mart.staging_for_hire (fhv or
-- fhvhv) from the warehouse server through postgres_fdw: the psql path to what `atl-mart
-- build` does with binary COPY. Run on the MART server, after creation.sql and `atl-mart
-- migrate`; then run insertion.sql (taxis) or insertion_for_hire.sql (for-hire) with the
-- same settings (order: README.md).
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
DROP FOREIGN TABLE IF EXISTS warehouse_raw.yellow_tripdata, warehouse_raw.green_tripdata,
    warehouse_raw.fhv_tripdata, warehouse_raw.fhvhv_tripdata;
IMPORT FOREIGN SCHEMA raw LIMIT TO (yellow_tripdata, green_tripdata, fhv_tripdata, fhvhv_tripdata)
    FROM SERVER atl_warehouse INTO warehouse_raw;

TRUNCATE mart.staging_trip, mart.staging_for_hire;

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

-- The for-hire kinds: one shape for both (pickup and dropoff mapped, a kind's missing
-- columns NULL), as atl-mart's transfer does.
INSERT INTO mart.staging_for_hire (source_month, source_row, hvfhs_license_num, dispatching_base_num,
       originating_base_num, request_datetime, on_scene_datetime, pickup_at, dropoff_at, pulocationid,
       dolocationid, trip_miles, trip_time, base_passenger_fare, tolls, bcf, sales_tax, congestion_surcharge,
       airport_fee, cbd_congestion_fee, tips, driver_pay, shared_request_flag, shared_match_flag,
       access_a_ride_flag, wav_request_flag, wav_match_flag)
SELECT source_month, source_row, hvfhs_license_num, dispatching_base_num, originating_base_num,
       request_datetime, on_scene_datetime, pickup_datetime, dropoff_datetime, pulocationid, dolocationid,
       trip_miles, trip_time, base_passenger_fare, tolls, bcf, sales_tax, congestion_surcharge, airport_fee,
       cbd_congestion_fee, tips, driver_pay, shared_request_flag, shared_match_flag, access_a_ride_flag,
       wav_request_flag, wav_match_flag
FROM warehouse_raw.fhvhv_tripdata
WHERE current_setting('atl.service') = 'fhvhv' AND source_month = current_setting('atl.month')::date;

INSERT INTO mart.staging_for_hire (source_month, source_row, dispatching_base_num, affiliated_base_number,
       pickup_at, dropoff_at, pulocationid, dolocationid, sr_flag)
SELECT source_month, source_row, dispatching_base_num, affiliated_base_number, pickup_datetime,
       dropoff_datetime, pulocationid, dolocationid, sr_flag
FROM warehouse_raw.fhv_tripdata
WHERE current_setting('atl.service') = 'fhv' AND source_month = current_setting('atl.month')::date;
