-- The warehouse's raw layer: TLC rows exactly as published, one table per trip kind,
-- partitioned by the month of the file they came from. Idempotent: run at every start.
--
-- Columns: the canonical schema of atl-core (the union of every era's columns, lower
-- case, lossless types) after three lineage columns:
--   source_month  the month of the file (the partition key)
--   source_key    the lake object the row was read from
--   source_row    the row's 0-based position in that object
-- Partitions are attached by the loader, one per month, in the transaction that fills
-- them; a month is therefore present entirely or not at all.

CREATE SCHEMA IF NOT EXISTS raw;

CREATE TABLE IF NOT EXISTS raw.load_log (
    kind              text             NOT NULL,
    month             date             NOT NULL,
    object_key        text             NOT NULL,
    object_size       bigint           NOT NULL,
    etag              text,
    rows              bigint           NOT NULL,
    total_amount_sum  double precision,
    started_at        timestamptz      NOT NULL,
    finished_at       timestamptz      NOT NULL,
    rows_per_sec      double precision NOT NULL,
    PRIMARY KEY (kind, month)
);

CREATE TABLE IF NOT EXISTS raw.yellow_tripdata (
    source_month           date             NOT NULL,
    source_key             text             NOT NULL,
    source_row             bigint           NOT NULL,
    vendorid               bigint,
    tpep_pickup_datetime   timestamp,
    tpep_dropoff_datetime  timestamp,
    passenger_count        double precision,
    trip_distance          double precision,
    ratecodeid             double precision,
    store_and_fwd_flag     text,
    pulocationid           bigint,
    dolocationid           bigint,
    payment_type           double precision,
    fare_amount            double precision,
    extra                  double precision,
    mta_tax                double precision,
    tip_amount             double precision,
    tolls_amount           double precision,
    improvement_surcharge  double precision,
    total_amount           double precision,
    congestion_surcharge   double precision,
    airport_fee            double precision,
    cbd_congestion_fee     double precision
) PARTITION BY LIST (source_month);

CREATE TABLE IF NOT EXISTS raw.green_tripdata (
    source_month           date             NOT NULL,
    source_key             text             NOT NULL,
    source_row             bigint           NOT NULL,
    vendorid               bigint,
    lpep_pickup_datetime   timestamp,
    lpep_dropoff_datetime  timestamp,
    store_and_fwd_flag     text,
    ratecodeid             double precision,
    pulocationid           bigint,
    dolocationid           bigint,
    passenger_count        double precision,
    trip_distance          double precision,
    fare_amount            double precision,
    extra                  double precision,
    mta_tax                double precision,
    tip_amount             double precision,
    tolls_amount           double precision,
    ehail_fee              double precision,
    improvement_surcharge  double precision,
    total_amount           double precision,
    payment_type           double precision,
    trip_type              double precision,
    congestion_surcharge   double precision,
    cbd_congestion_fee     double precision
) PARTITION BY LIST (source_month);

-- The shape of one month's partition. The loader creates each month's table LIKE these, not
-- LIKE the parents: LIKE keeps a lock on its source until commit, and a lock on the parent
-- held through a whole COPY would deadlock two loaders that replace months at the same time
-- (each one's DROP of its old partition waits for the other's lock).
CREATE TABLE IF NOT EXISTS raw.yellow_tripdata_shape (LIKE raw.yellow_tripdata INCLUDING DEFAULTS);
CREATE TABLE IF NOT EXISTS raw.green_tripdata_shape (LIKE raw.green_tripdata INCLUDING DEFAULTS);
