-- The for-hire services, as published: high-volume FHV (Uber, Lyft, formerly Juno and Via;
-- files from 2019-02) and other FHV (black car, livery, luxury limousine; from 2015-01).
-- Columns: atl-core's declaration (crates/core/src/schema.rs, FHVHV and FHV) after the same
-- lineage as the taxis; partitioned by the month of the file, one partition per month,
-- attached by the loader in the transaction that fills it.

CREATE TABLE raw.fhvhv_tripdata (
    source_month           date             NOT NULL,
    source_key             text             NOT NULL,
    source_row             bigint           NOT NULL,
    hvfhs_license_num      text,
    dispatching_base_num   text,
    originating_base_num   text,
    request_datetime       timestamp,
    on_scene_datetime      timestamp,
    pickup_datetime        timestamp,
    dropoff_datetime       timestamp,
    pulocationid           bigint,
    dolocationid           bigint,
    trip_miles             double precision,
    trip_time              bigint,
    base_passenger_fare    double precision,
    tolls                  double precision,
    bcf                    double precision,
    sales_tax              double precision,
    congestion_surcharge   double precision,
    airport_fee            double precision,
    tips                   double precision,
    driver_pay             double precision,
    shared_request_flag    text,
    shared_match_flag      text,
    access_a_ride_flag     text,
    wav_request_flag       text,
    wav_match_flag         text,
    cbd_congestion_fee     double precision
) PARTITION BY LIST (source_month);

CREATE TABLE raw.fhv_tripdata (
    source_month            date             NOT NULL,
    source_key              text             NOT NULL,
    source_row              bigint           NOT NULL,
    dispatching_base_num    text,
    pickup_datetime         timestamp,
    dropoff_datetime        timestamp,
    pulocationid            double precision,
    dolocationid            double precision,
    sr_flag                 double precision,
    affiliated_base_number  text
) PARTITION BY LIST (source_month);
