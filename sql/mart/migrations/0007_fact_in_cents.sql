-- The taxi fact's money and distance as whole cents and hundredths of a mile (integer)
-- instead of numeric(10,2) and numeric(9,2) (issue 12). The values do not change: each was
-- rounded to the cent by mart.round_cents (migration 0004) and is now that number of cents.
--
-- Why: the fact's COPY is the longest step of a month's build (the new partition is written
-- by one backend, while everything else shares the other core), and numeric is its costliest
-- type: receiving a numeric allocates and normalises base-10000 digits, and the fact's CHECKs
-- compare numerics. The mart server's COPY of a month's 2.9 M fact rows from a file cost 5.7
-- CPU-s with numeric money against 4.7 s with integers (4 alternated rounds, 2026-12-02,
-- docs/performance.md). int, not bigint: the cleaning rules reject any amount above $10,000
-- in absolute value and any distance above 500 mi (amount_over_10000, distance_over_500mi,
-- since the first release), so a fact value is within +-1,000,000.
--
-- The columns are renamed with their unit (fare_amount -> fare_amount_cents, trip_distance ->
-- trip_distance_hundredths) so that no query reads cents as dollars. The roll-ups and every
-- aggregate table keep dollars and miles (numeric); the dashboard reads only those.
--
-- The CHECKs that bound money and distance are restated in the new units. Every partition is
-- rewritten once (ALTER COLUMN TYPE recurses), in this migration's transaction: a mart of a
-- year of taxi months takes a few minutes.
ALTER TABLE mart.fact_trip
    DROP CONSTRAINT fact_trip_distance,
    DROP CONSTRAINT fact_trip_fare,
    DROP CONSTRAINT fact_trip_total;

-- A build killed before its swap leaves its table; the next build drops it anyway.
DROP TABLE IF EXISTS mart.fact_trip_build;

ALTER TABLE mart.fact_trip
    ALTER COLUMN trip_distance TYPE integer USING (trip_distance * 100)::integer,
    ALTER COLUMN fare_amount TYPE integer USING (fare_amount * 100)::integer,
    ALTER COLUMN extra TYPE integer USING (extra * 100)::integer,
    ALTER COLUMN mta_tax TYPE integer USING (mta_tax * 100)::integer,
    ALTER COLUMN tip_amount TYPE integer USING (tip_amount * 100)::integer,
    ALTER COLUMN tolls_amount TYPE integer USING (tolls_amount * 100)::integer,
    ALTER COLUMN improvement_surcharge TYPE integer USING (improvement_surcharge * 100)::integer,
    ALTER COLUMN congestion_surcharge TYPE integer USING (congestion_surcharge * 100)::integer,
    ALTER COLUMN airport_fee TYPE integer USING (airport_fee * 100)::integer,
    ALTER COLUMN cbd_congestion_fee TYPE integer USING (cbd_congestion_fee * 100)::integer,
    ALTER COLUMN ehail_fee TYPE integer USING (ehail_fee * 100)::integer,
    ALTER COLUMN total_amount TYPE integer USING (total_amount * 100)::integer;

ALTER TABLE mart.fact_trip RENAME COLUMN trip_distance TO trip_distance_hundredths;
ALTER TABLE mart.fact_trip RENAME COLUMN fare_amount TO fare_amount_cents;
ALTER TABLE mart.fact_trip RENAME COLUMN extra TO extra_cents;
ALTER TABLE mart.fact_trip RENAME COLUMN mta_tax TO mta_tax_cents;
ALTER TABLE mart.fact_trip RENAME COLUMN tip_amount TO tip_amount_cents;
ALTER TABLE mart.fact_trip RENAME COLUMN tolls_amount TO tolls_amount_cents;
ALTER TABLE mart.fact_trip RENAME COLUMN improvement_surcharge TO improvement_surcharge_cents;
ALTER TABLE mart.fact_trip RENAME COLUMN congestion_surcharge TO congestion_surcharge_cents;
ALTER TABLE mart.fact_trip RENAME COLUMN airport_fee TO airport_fee_cents;
ALTER TABLE mart.fact_trip RENAME COLUMN cbd_congestion_fee TO cbd_congestion_fee_cents;
ALTER TABLE mart.fact_trip RENAME COLUMN ehail_fee TO ehail_fee_cents;
ALTER TABLE mart.fact_trip RENAME COLUMN total_amount TO total_amount_cents;

ALTER TABLE mart.fact_trip
    ADD CONSTRAINT fact_trip_distance
        CHECK (trip_distance_hundredths > 0 AND trip_distance_hundredths <= 50000),
    ADD CONSTRAINT fact_trip_fare CHECK (fare_amount_cents >= 0 AND fare_amount_cents <= 1000000),
    ADD CONSTRAINT fact_trip_total CHECK (total_amount_cents >= 0 AND total_amount_cents <= 1000000);

COMMENT ON COLUMN mart.fact_trip.trip_distance_hundredths IS 'trip distance in hundredths of a mile';
COMMENT ON COLUMN mart.fact_trip.total_amount_cents IS 'what the passenger paid, in cents (as every *_cents column)';
