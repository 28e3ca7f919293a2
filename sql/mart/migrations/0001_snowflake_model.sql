-- The mart: a snowflake model of cleaned TLC trips on PostgreSQL server #2.
-- Idempotent: `atl-mart` applies it at every start; by hand:
--     psql "$MART_URL" -v ON_ERROR_STOP=1 -f sql/mart/creation.sql
-- (order of the scripts: sql/mart/README.md).
--
--   dim_year ← dim_month ← dim_date          calendar (US federal holidays computed here)
--   dim_time_of_day                           hour, period, rush hour
--   dim_borough ← dim_zone → dim_service_zone from reference/taxi_zone_lookup.csv
--   dim_vendor, dim_payment_type, dim_rate_code, dim_service
--   fact_trip                                 one partition per service and pickup month
--   agg_*                                     what the dashboard reads
--   rejects, reject_samples, build_log        every staged row accounted for

SET client_min_messages = warning;  -- no "already exists, skipping" notices

CREATE SCHEMA IF NOT EXISTS mart;

-- ---------------------------------------------------------------- calendar
CREATE TABLE IF NOT EXISTS mart.dim_year (
    year_id  int PRIMARY KEY CHECK (year_id BETWEEN 1900 AND 2200)
);

CREATE TABLE IF NOT EXISTS mart.dim_month (
    month_id    int      PRIMARY KEY,               -- YYYYMM
    year_id     int      NOT NULL REFERENCES mart.dim_year,
    month       smallint NOT NULL CHECK (month BETWEEN 1 AND 12),
    month_name  text     NOT NULL,
    first_day   date     NOT NULL UNIQUE,
    CHECK (month_id = year_id * 100 + month)
);

CREATE TABLE IF NOT EXISTS mart.dim_date (
    date_id       int      PRIMARY KEY,             -- YYYYMMDD
    date          date     NOT NULL UNIQUE,
    month_id      int      NOT NULL REFERENCES mart.dim_month,
    day_of_month  smallint NOT NULL CHECK (day_of_month BETWEEN 1 AND 31),
    weekday       smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),  -- ISO: 1 = Monday
    weekday_name  text     NOT NULL,
    is_weekend    boolean  NOT NULL,
    is_holiday    boolean  NOT NULL,
    holiday_name  text,
    CHECK (is_holiday = (holiday_name IS NOT NULL))
);

-- US federal holidays of `year`, on the day they are observed: fixed-date holidays falling
-- on a Saturday are observed the Friday before, on a Sunday the Monday after (5 U.S.C. 6103).
-- New Year's Day of year+1 can be observed on Dec 31 of `year`: callers ask for both years.
CREATE OR REPLACE FUNCTION mart.us_federal_holidays(year int)
RETURNS TABLE (day date, name text) LANGUAGE sql IMMUTABLE AS $$
    WITH fixed(month, dom, name, since) AS (VALUES
        (1, 1, 'New Year''s Day', 1870), (6, 19, 'Juneteenth National Independence Day', 2021),
        (7, 4, 'Independence Day', 1870), (11, 11, 'Veterans Day', 1938),
        (12, 25, 'Christmas Day', 1870)),
    nth(month, isodow, n, name, since) AS (VALUES       -- n = -1: the last one of the month
        (1, 1, 3, 'Birthday of Martin Luther King, Jr.', 1986),
        (2, 1, 3, 'Washington''s Birthday', 1971), (5, 1, -1, 'Memorial Day', 1971),
        (9, 1, 1, 'Labor Day', 1894), (10, 1, 2, 'Columbus Day', 1971),
        (11, 4, 4, 'Thanksgiving Day', 1942))
    SELECT d + CASE extract(isodow FROM d) WHEN 6 THEN -1 WHEN 7 THEN 1 ELSE 0 END, name
    FROM fixed, make_date(year, month, dom) AS d
    WHERE year >= since
    UNION ALL
    SELECT CASE WHEN n > 0
                THEN first + ((isodow - extract(isodow FROM first)::int + 7) % 7) + (n - 1) * 7
                ELSE last - ((extract(isodow FROM last)::int - isodow + 7) % 7) END, name
    FROM nth,
         LATERAL (SELECT make_date(year, month, 1) AS first,
                         (make_date(year, month, 1) + interval '1 month' - interval '1 day')::date AS last) b
    WHERE year >= since
$$;

-- Fills dim_year, dim_month and dim_date for every day from `first_day` to `last_day`.
CREATE OR REPLACE FUNCTION mart.ensure_calendar(first_day date, last_day date)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO mart.dim_year (year_id)
    SELECT y FROM generate_series(extract(year FROM first_day)::int, extract(year FROM last_day)::int) y
    ON CONFLICT DO NOTHING;
    INSERT INTO mart.dim_month (month_id, year_id, month, month_name, first_day)
    SELECT to_char(m, 'YYYYMM')::int, extract(year FROM m)::int, extract(month FROM m)::smallint,
           trim(to_char(m, 'FMMonth')), m::date
    FROM generate_series(date_trunc('month', first_day), last_day, interval '1 month') m
    ON CONFLICT DO NOTHING;
    INSERT INTO mart.dim_date (date_id, date, month_id, day_of_month, weekday, weekday_name,
                               is_weekend, is_holiday, holiday_name)
    SELECT to_char(d, 'YYYYMMDD')::int, d::date, to_char(d, 'YYYYMM')::int,
           extract(day FROM d)::smallint, extract(isodow FROM d)::smallint,
           trim(to_char(d, 'FMDay')), extract(isodow FROM d) >= 6,
           h.name IS NOT NULL, h.name
    FROM generate_series(first_day, last_day, interval '1 day') d
    LEFT JOIN LATERAL (
        SELECT string_agg(hol.name, ' / ') AS name
        FROM (SELECT * FROM mart.us_federal_holidays(extract(year FROM d)::int)
              UNION ALL SELECT * FROM mart.us_federal_holidays(extract(year FROM d)::int + 1)) hol
        WHERE hol.day = d::date
    ) h ON true
    ON CONFLICT DO NOTHING;
$$;

-- Rush hour applies on weekdays only: combine is_rush_hour with dim_date.is_weekend.
CREATE TABLE IF NOT EXISTS mart.dim_time_of_day (
    hour          smallint PRIMARY KEY CHECK (hour BETWEEN 0 AND 23),
    period        text     NOT NULL CHECK (period IN ('night', 'morning', 'afternoon', 'evening')),
    is_rush_hour  boolean  NOT NULL   -- 07:00-09:59 and 16:00-19:59 on weekdays
);
INSERT INTO mart.dim_time_of_day (hour, period, is_rush_hour)
SELECT h, CASE WHEN h < 6 THEN 'night' WHEN h < 12 THEN 'morning' WHEN h < 17 THEN 'afternoon'
               ELSE 'evening' END,
       h BETWEEN 7 AND 9 OR h BETWEEN 16 AND 19
FROM generate_series(0, 23) h
ON CONFLICT DO NOTHING;

-- ---------------------------------------------------------------- zones
CREATE TABLE IF NOT EXISTS mart.dim_borough (
    borough_id  int  GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS mart.dim_service_zone (
    service_zone_id  int  GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name             text NOT NULL UNIQUE
);
-- zone_id = the TLC LocationID. Names are not unique in the TLC table ("Corona": 56 and 57).
CREATE TABLE IF NOT EXISTS mart.dim_zone (
    zone_id          int  PRIMARY KEY CHECK (zone_id BETWEEN 1 AND 265),
    name             text NOT NULL,
    borough_id       int  NOT NULL REFERENCES mart.dim_borough,
    service_zone_id  int  NOT NULL REFERENCES mart.dim_service_zone
);
-- taxi_zone_lookup.csv as published; filled by atl-mart or by psql's \copy (README.md).
CREATE UNLOGGED TABLE IF NOT EXISTS mart.staging_zone (
    locationid    int,
    borough       text,
    zone          text,
    service_zone  text
);

-- ---------------------------------------------------------------- codes
-- Labels from the TLC data dictionaries (yellow 2025-03-18, green 2018-05-01). Every code
-- dimension has an explicit unknown member, -1, for null and unlisted codes.
CREATE TABLE IF NOT EXISTS mart.dim_service (
    service_id  smallint PRIMARY KEY,
    name        text NOT NULL UNIQUE
);
INSERT INTO mart.dim_service VALUES (1, 'yellow'), (2, 'green') ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS mart.dim_vendor (
    vendor_id  int  PRIMARY KEY,
    name       text NOT NULL
);
INSERT INTO mart.dim_vendor VALUES
    (-1, 'Unknown'), (1, 'Creative Mobile Technologies, LLC'),
    (2, 'Curb Mobility, LLC (formerly VeriFone Inc.)'), (6, 'Myle Technologies Inc'), (7, 'Helix')
ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS mart.dim_payment_type (
    payment_type_id  int  PRIMARY KEY,
    name             text NOT NULL
);
INSERT INTO mart.dim_payment_type VALUES
    (-1, 'Unknown'), (0, 'Flex Fare trip'), (1, 'Credit card'), (2, 'Cash'), (3, 'No charge'),
    (4, 'Dispute'), (5, 'Unknown (as recorded)'), (6, 'Voided trip')
ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS mart.dim_rate_code (
    rate_code_id  int  PRIMARY KEY,
    name          text NOT NULL
);
INSERT INTO mart.dim_rate_code VALUES
    (-1, 'Unknown'), (1, 'Standard rate'), (2, 'JFK'), (3, 'Newark'), (4, 'Nassau or Westchester'),
    (5, 'Negotiated fare'), (6, 'Group ride'), (99, 'Null/unknown (as recorded)')
ON CONFLICT DO NOTHING;

-- ---------------------------------------------------------------- staging
-- One warehouse month in one shape for both services (green's lpep_* columns mapped), with
-- the warehouse's column types so binary COPY goes across unchanged. Unlogged: it is
-- refilled for every build and needs no crash safety.
CREATE UNLOGGED TABLE IF NOT EXISTS mart.staging_trip (
    source_month           date NOT NULL,
    source_row             bigint NOT NULL,
    vendorid               bigint,
    pickup_at              timestamp,
    dropoff_at             timestamp,
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
    cbd_congestion_fee     double precision,
    ehail_fee              double precision,
    trip_type              double precision
);

-- ---------------------------------------------------------------- fact
-- Partitioned by (service, pickup time): one partition per service and month, named
-- fact_trip_<service>_<YYYY>_<MM>, swapped in whole by mart.swap_month_partition; rows of
-- no built month would land in the DEFAULT partition (the cleaning rules keep it empty).
-- The CHECK constraints restate the cleaning rules of insertion.sql.
CREATE TABLE IF NOT EXISTS mart.fact_trip (
    service_id             smallint     NOT NULL REFERENCES mart.dim_service,
    pickup_at              timestamp    NOT NULL,
    dropoff_at             timestamp    NOT NULL,
    pickup_date_id         int          NOT NULL REFERENCES mart.dim_date,
    pickup_hour            smallint     NOT NULL REFERENCES mart.dim_time_of_day,
    pu_zone_id             int          NOT NULL REFERENCES mart.dim_zone,
    do_zone_id             int          NOT NULL REFERENCES mart.dim_zone,
    vendor_id              int          NOT NULL REFERENCES mart.dim_vendor,
    payment_type_id        int          NOT NULL REFERENCES mart.dim_payment_type,
    rate_code_id           int          NOT NULL REFERENCES mart.dim_rate_code,
    passenger_count        smallint,
    store_and_fwd          boolean,
    trip_type              smallint,
    duration_sec           int          NOT NULL,
    trip_distance          numeric(9,2) NOT NULL,
    fare_amount            numeric(10,2) NOT NULL,
    extra                  numeric(10,2),
    mta_tax                numeric(10,2),
    tip_amount             numeric(10,2),
    tolls_amount           numeric(10,2),
    improvement_surcharge  numeric(10,2),
    congestion_surcharge   numeric(10,2),
    airport_fee            numeric(10,2),
    cbd_congestion_fee     numeric(10,2),
    ehail_fee              numeric(10,2),
    total_amount           numeric(10,2) NOT NULL,
    source_month           date         NOT NULL,
    source_row             bigint       NOT NULL,
    CONSTRAINT fact_trip_pickup_in_source_month
        CHECK (pickup_at >= source_month AND pickup_at < source_month + interval '1 month'),
    CONSTRAINT fact_trip_dropoff_after_pickup_within_24h
        CHECK (dropoff_at > pickup_at AND dropoff_at <= pickup_at + interval '24 hours'),
    CONSTRAINT fact_trip_duration CHECK (duration_sec BETWEEN 0 AND 86400),
    CONSTRAINT fact_trip_distance CHECK (trip_distance > 0 AND trip_distance <= 500),
    CONSTRAINT fact_trip_fare CHECK (fare_amount >= 0 AND fare_amount <= 10000),
    CONSTRAINT fact_trip_total CHECK (total_amount >= 0 AND total_amount <= 10000),
    CONSTRAINT fact_trip_passengers CHECK (passenger_count BETWEEN 0 AND 9)
) PARTITION BY RANGE (service_id, pickup_at);

CREATE TABLE IF NOT EXISTS mart.fact_trip_default PARTITION OF mart.fact_trip DEFAULT;

-- Swaps the table mart.fact_trip_build in as the month's partition: the old partition is
-- dropped and the new one attached in the caller's transaction, so readers see the old month
-- or the new one, never half of one, and a rebuild replaces instead of doubling.
CREATE OR REPLACE FUNCTION mart.swap_month_partition(service text, month date)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    sid smallint := (SELECT service_id FROM mart.dim_service WHERE name = service);
    part text := format('fact_trip_%s_%s', service, to_char(month, 'YYYY_MM'));
BEGIN
    IF sid IS NULL THEN
        RAISE EXCEPTION 'unknown service %', service;
    END IF;
    EXECUTE format('DROP TABLE IF EXISTS mart.%I', part);
    EXECUTE format('ALTER TABLE mart.fact_trip_build RENAME TO %I', part);
    EXECUTE format('ALTER TABLE mart.fact_trip ATTACH PARTITION mart.%I FOR VALUES FROM (%s, %L) TO (%s, %L)',
                   part, sid, month::timestamp, sid, (month + interval '1 month')::timestamp);
END
$$;

-- Gives mart.fact_trip_build (made by insertion.sql with CREATE TABLE AS) the fact's NOT NULL
-- and CHECK constraints, read from the catalog so they cannot drift, and a CHECK matching the
-- month's partition bounds (so ATTACH needs no partition-constraint scan). One ALTER TABLE:
-- one scan validates them all.
DROP FUNCTION IF EXISTS mart.create_build_table(text, date);
CREATE OR REPLACE FUNCTION mart.constrain_build_table(service text, month date)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    sid smallint := (SELECT service_id FROM mart.dim_service WHERE name = service);
    clauses text;
BEGIN
    IF sid IS NULL THEN
        RAISE EXCEPTION 'unknown service %', service;
    END IF;
    SELECT string_agg(clause, ', ' ORDER BY n, clause) INTO clauses FROM (
        SELECT 1 AS n, format('ALTER COLUMN %I SET NOT NULL', a.attname) AS clause
        FROM pg_attribute a
        WHERE a.attrelid = 'mart.fact_trip'::regclass AND a.attnum > 0 AND NOT a.attisdropped
          AND a.attnotnull
        UNION ALL
        SELECT 2, format('ADD CONSTRAINT %I %s', c.conname, pg_get_constraintdef(c.oid))
        FROM pg_constraint c
        WHERE c.conrelid = 'mart.fact_trip'::regclass AND c.contype = 'c'
        UNION ALL
        SELECT 3, format('ADD CONSTRAINT fact_trip_build_bounds '
                         'CHECK (service_id = %s AND pickup_at >= %L AND pickup_at < %L)',
                         sid, month::timestamp, (month + interval '1 month')::timestamp)
    ) x;
    EXECUTE 'ALTER TABLE mart.fact_trip_build ' || clauses;
END
$$;

-- ---------------------------------------------------------------- aggregates
-- The dashboard's contract: names and columns are relied upon by atl-viz.
-- Airport trip: pickup or dropoff in zone 1 (EWR), 132 (JFK) or 138 (LaGuardia), or rate
-- code 2 (JFK) or 3 (Newark). Card = payment type 1. Revenue = sum(total_amount).
CREATE TABLE IF NOT EXISTS mart.agg_daily (
    service_id        smallint NOT NULL REFERENCES mart.dim_service,
    date_id           int      NOT NULL REFERENCES mart.dim_date,
    trips             bigint   NOT NULL,
    revenue           numeric  NOT NULL,
    fare_sum          numeric  NOT NULL,
    card_trips        bigint   NOT NULL,
    card_fare_sum     numeric  NOT NULL,
    card_tip_sum      numeric  NOT NULL,
    duration_sec_sum  bigint   NOT NULL,
    distance_sum      numeric  NOT NULL,
    airport_trips     bigint   NOT NULL,
    PRIMARY KEY (service_id, date_id)
);
CREATE INDEX IF NOT EXISTS agg_daily_date ON mart.agg_daily (date_id);

CREATE TABLE IF NOT EXISTS mart.agg_hour_weekday (
    service_id  smallint NOT NULL REFERENCES mart.dim_service,
    month_id    int      NOT NULL REFERENCES mart.dim_month,
    weekday     smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    hour        smallint NOT NULL REFERENCES mart.dim_time_of_day,
    trips       bigint   NOT NULL,
    PRIMARY KEY (service_id, month_id, weekday, hour)
);
CREATE INDEX IF NOT EXISTS agg_hour_weekday_month ON mart.agg_hour_weekday (month_id);

CREATE TABLE IF NOT EXISTS mart.agg_zone_month (
    service_id     smallint NOT NULL REFERENCES mart.dim_service,
    month_id       int      NOT NULL REFERENCES mart.dim_month,
    pu_zone_id     int      NOT NULL REFERENCES mart.dim_zone,
    trips          bigint   NOT NULL,
    revenue        numeric  NOT NULL,
    card_fare_sum  numeric  NOT NULL,
    card_tip_sum   numeric  NOT NULL,
    PRIMARY KEY (service_id, month_id, pu_zone_id)
);
CREATE INDEX IF NOT EXISTS agg_zone_month_month ON mart.agg_zone_month (month_id, trips DESC);

CREATE TABLE IF NOT EXISTS mart.agg_payment_month (
    service_id       smallint NOT NULL REFERENCES mart.dim_service,
    month_id         int      NOT NULL REFERENCES mart.dim_month,
    payment_type_id  int      NOT NULL REFERENCES mart.dim_payment_type,
    trips            bigint   NOT NULL,
    revenue          numeric  NOT NULL,
    PRIMARY KEY (service_id, month_id, payment_type_id)
);

-- distance_bin: lower bound of a 0.5-mile bin; the last bin, 30, holds every trip of 30 mi or more.
CREATE TABLE IF NOT EXISTS mart.agg_fare_distance (
    service_id    smallint NOT NULL REFERENCES mart.dim_service,
    month_id      int      NOT NULL REFERENCES mart.dim_month,
    distance_bin  numeric  NOT NULL CHECK (distance_bin BETWEEN 0 AND 30),
    trips         bigint   NOT NULL,
    fare_sum      numeric  NOT NULL,
    PRIMARY KEY (service_id, month_id, distance_bin)
);

-- ---------------------------------------------------------------- accounting
-- Every staged row is in fact_trip or counted here under exactly one reason (insertion.sql).
CREATE TABLE IF NOT EXISTS mart.rejects (
    service_id        smallint NOT NULL REFERENCES mart.dim_service,
    month_id          int      NOT NULL REFERENCES mart.dim_month,
    reason            text     NOT NULL,
    rows              bigint   NOT NULL,
    total_amount_sum  numeric  NOT NULL,
    PRIMARY KEY (service_id, month_id, reason)
);
CREATE TABLE IF NOT EXISTS mart.reject_samples (
    service_id  smallint NOT NULL REFERENCES mart.dim_service,
    month_id    int      NOT NULL REFERENCES mart.dim_month,
    reason      text     NOT NULL,
    source_row  bigint   NOT NULL,
    row_data    jsonb    NOT NULL,
    PRIMARY KEY (service_id, month_id, reason, source_row)
);
-- warehouse_total etc.: sum of total_amount rounded to cents, as numeric.
CREATE TABLE IF NOT EXISTS mart.build_log (
    service_id       smallint         NOT NULL REFERENCES mart.dim_service,
    month_id         int              NOT NULL REFERENCES mart.dim_month,
    warehouse_rows   bigint           NOT NULL,
    fact_rows        bigint           NOT NULL,
    rejected_rows    bigint           NOT NULL,
    warehouse_total  numeric          NOT NULL,
    fact_total       numeric          NOT NULL,
    rejected_total   numeric          NOT NULL,
    built_at         timestamptz      NOT NULL,
    seconds          double precision NOT NULL,
    rows_per_sec     double precision NOT NULL,
    PRIMARY KEY (service_id, month_id),
    CHECK (warehouse_rows = fact_rows + rejected_rows),
    CHECK (warehouse_total = fact_total + rejected_total)
);
-- The warehouse load (raw.load_log.finished_at) a build read, so atl-mart rebuilds a month
-- when the warehouse reloaded it, without comparing two servers' clocks. NULL from psql.
ALTER TABLE mart.build_log ADD COLUMN IF NOT EXISTS warehouse_loaded_at timestamptz;
