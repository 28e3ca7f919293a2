-- The for-hire fact gets the taxi fact's treatment (issue 27): money and miles as whole cents
-- and hundredths of a mile (integer) instead of numeric(10,2) and numeric(9,2), as migration
-- 0007 did for mart.fact_trip, and a month's new partition made empty and constrained before
-- its rows arrive, as migration 0006 did, so that atl-mart streams the clean rows straight
-- into it (crates/mart/src/cleaning) and insertion_for_hire.sql by hand inserts them.
--
-- The values do not change: each was rounded to the cent by mart.round_cents (migration 0004)
-- and is now that number of cents; passenger_total was the sum of its charges in cents, and
-- is that sum. int, not bigint: the cleaning rules reject any charge or driver pay above
-- $10,000 in absolute value (amount_over_10000) and trips over 500 mi, so a value is within
-- +-1,000,000, and passenger_total, a sum of eight charges, within 8,000,000.
--
-- Why: numeric is the costliest type of the fact's COPY, the longest step of a build
-- (migration 0007 says by how much), and the for-hire fact has eleven such columns.
--
-- Renamed with their unit (tips -> tips_cents, trip_miles -> trip_miles_hundredths) so that
-- no query reads cents as dollars; the roll-ups and every aggregate table keep dollars and
-- miles (numeric). The CHECKs that bound money and miles are restated in the new units.
-- Every partition is rewritten once (ALTER COLUMN TYPE recurses), in this migration's
-- transaction.
ALTER TABLE mart.fact_for_hire_trip
    DROP CONSTRAINT fact_for_hire_miles,
    DROP CONSTRAINT fact_for_hire_fare,
    DROP CONSTRAINT fact_for_hire_total;

-- A build killed before its swap leaves its table; the next build drops it anyway.
DROP TABLE IF EXISTS mart.fact_for_hire_build;

ALTER TABLE mart.fact_for_hire_trip
    ALTER COLUMN trip_miles TYPE integer USING (trip_miles * 100)::integer,
    ALTER COLUMN base_passenger_fare TYPE integer USING (base_passenger_fare * 100)::integer,
    ALTER COLUMN tolls TYPE integer USING (tolls * 100)::integer,
    ALTER COLUMN bcf TYPE integer USING (bcf * 100)::integer,
    ALTER COLUMN sales_tax TYPE integer USING (sales_tax * 100)::integer,
    ALTER COLUMN congestion_surcharge TYPE integer USING (congestion_surcharge * 100)::integer,
    ALTER COLUMN airport_fee TYPE integer USING (airport_fee * 100)::integer,
    ALTER COLUMN cbd_congestion_fee TYPE integer USING (cbd_congestion_fee * 100)::integer,
    ALTER COLUMN tips TYPE integer USING (tips * 100)::integer,
    ALTER COLUMN driver_pay TYPE integer USING (driver_pay * 100)::integer,
    ALTER COLUMN passenger_total TYPE integer USING (passenger_total * 100)::integer;

ALTER TABLE mart.fact_for_hire_trip RENAME COLUMN trip_miles TO trip_miles_hundredths;
ALTER TABLE mart.fact_for_hire_trip RENAME COLUMN base_passenger_fare TO base_passenger_fare_cents;
ALTER TABLE mart.fact_for_hire_trip RENAME COLUMN tolls TO tolls_cents;
ALTER TABLE mart.fact_for_hire_trip RENAME COLUMN bcf TO bcf_cents;
ALTER TABLE mart.fact_for_hire_trip RENAME COLUMN sales_tax TO sales_tax_cents;
ALTER TABLE mart.fact_for_hire_trip RENAME COLUMN congestion_surcharge TO congestion_surcharge_cents;
ALTER TABLE mart.fact_for_hire_trip RENAME COLUMN airport_fee TO airport_fee_cents;
ALTER TABLE mart.fact_for_hire_trip RENAME COLUMN cbd_congestion_fee TO cbd_congestion_fee_cents;
ALTER TABLE mart.fact_for_hire_trip RENAME COLUMN tips TO tips_cents;
ALTER TABLE mart.fact_for_hire_trip RENAME COLUMN driver_pay TO driver_pay_cents;
ALTER TABLE mart.fact_for_hire_trip RENAME COLUMN passenger_total TO passenger_total_cents;

ALTER TABLE mart.fact_for_hire_trip
    ADD CONSTRAINT fact_for_hire_miles
        CHECK (trip_miles_hundredths > 0 AND trip_miles_hundredths <= 50000),
    ADD CONSTRAINT fact_for_hire_fare
        CHECK (base_passenger_fare_cents >= 0 AND base_passenger_fare_cents <= 1000000),
    ADD CONSTRAINT fact_for_hire_total CHECK (passenger_total_cents >= 0);

COMMENT ON COLUMN mart.fact_for_hire_trip.trip_miles_hundredths IS 'trip miles in hundredths of a mile';
COMMENT ON COLUMN mart.fact_for_hire_trip.passenger_total_cents IS
    'what the passenger paid, in cents (as every *_cents column): mart.passenger_total';

-- The month's new partition, made before its rows arrive: the fact's columns and NOT NULLs
-- (LIKE), its CHECKs read from the catalog (so they cannot drift) and one matching the
-- partition bounds, on an empty table (no scan). Rows are checked as they are written, and
-- ATTACH finds the bounds CHECK: no validating scan afterwards. Made and filled in one
-- transaction, a COPY into it may use FREEZE.
CREATE OR REPLACE FUNCTION mart.new_for_hire_build_table(trip_kind text, month date)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    kid smallint := (SELECT service_id FROM mart.dim_service s WHERE s.name = trip_kind AND s.kind = trip_kind);
    clauses text;
BEGIN
    IF kid IS NULL OR trip_kind NOT IN ('fhv', 'fhvhv') THEN
        RAISE EXCEPTION 'unknown for-hire kind %', trip_kind;
    END IF;
    DROP TABLE IF EXISTS mart.fact_for_hire_build;
    CREATE TABLE mart.fact_for_hire_build (LIKE mart.fact_for_hire_trip);
    SELECT string_agg(clause, ', ' ORDER BY clause) INTO clauses FROM (
        SELECT format('ADD CONSTRAINT %I %s', c.conname, pg_get_constraintdef(c.oid)) AS clause
        FROM pg_constraint c
        WHERE c.conrelid = 'mart.fact_for_hire_trip'::regclass AND c.contype = 'c'
        UNION ALL
        SELECT format('ADD CONSTRAINT fact_for_hire_build_bounds '
                      'CHECK (kind_id = %s AND pickup_at >= %L AND pickup_at < %L)',
                      kid, month::timestamp, (month + interval '1 month')::timestamp)
    ) x;
    EXECUTE 'ALTER TABLE mart.fact_for_hire_build ' || clauses;
END
$$;

-- Swaps mart.fact_for_hire_build (made by mart.new_for_hire_build_table) in as the kind's
-- month partition, in the caller's transaction: the old one dropped, the new one attached.
CREATE OR REPLACE FUNCTION mart.swap_for_hire_partition(trip_kind text, month date)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    kid smallint := (SELECT service_id FROM mart.dim_service s WHERE s.name = trip_kind AND s.kind = trip_kind);
    part text := format('fact_for_hire_%s_%s', trip_kind, to_char(month, 'YYYY_MM'));
BEGIN
    IF kid IS NULL OR trip_kind NOT IN ('fhv', 'fhvhv') THEN
        RAISE EXCEPTION 'unknown for-hire kind %', trip_kind;
    END IF;
    EXECUTE format('DROP TABLE IF EXISTS mart.%I', part);
    EXECUTE format('ALTER TABLE mart.fact_for_hire_build RENAME TO %I', part);
    EXECUTE format('ALTER TABLE mart.fact_for_hire_trip ATTACH PARTITION mart.%I FOR VALUES FROM (%s, %L) TO (%s, %L)',
                   part, kid, month::timestamp, kid, (month + interval '1 month')::timestamp);
END
$$;
