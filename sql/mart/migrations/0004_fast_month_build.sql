-- Migration 4: a month build that does less work for the same result (issue 12).
--
-- mart.round_cents(x): a double rounded to the cent, as numeric. THE ROUNDING RULE of the
-- mart's money (and of trip_distance, to the hundredth of a mile) is PostgreSQL's
--     round(x::numeric, 2)
-- that is: x's 15-significant-digit decimal form (float8 -> numeric in PostgreSQL 15), rounded
-- half away from zero to 2 decimals. The warehouse's month total (atl-mart's transfer), the
-- rejects' totals and every fact amount follow it; this function computes the same value
-- cheaply for the values money really takes.
--
-- Why: float8 -> numeric goes through text (snprintf, then numeric_in); on a 3 M-row month
-- with 12 converted columns that was 11.6 s of a 25 s build. Here, when x is within 0.49 of
-- a cent of a whole number of cents n (every value that is a whole number of cents, stored
-- as the nearest double, is within 1e-6 of one), the result is n / 100, from integers
-- only; otherwise (fractions of cents, NaN, infinities, |x| >= 1e7) the rule itself runs.
-- Why the shortcut is exact: for |x| < 1e7, x * 100 is below 1e9 and computed within 6e-8 of
-- 100x, and the 15-digit form d of x is within 5e-9 of x (at least 8 decimals), so
-- |100d - n| < 0.49 + 6e-8 + 5e-7 < 0.5: the rule rounds d to n / 100 as well, ties
-- included (no value within 0.49 of n is a tie). crates/mart/tests/schema.rs compares the
-- two on millions of values, half cents and the edges included.
--
-- Not STRICT and a single SELECT, so that the planner inlines it into the calling query
-- (no function call per value) and the query keeps its parallel plan.
CREATE OR REPLACE FUNCTION mart.round_cents(x double precision) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN abs(x) < 1e7 AND abs(x * 100 - round(x * 100)) < 0.49
                THEN round(x * 100)::bigint * 0.01
                ELSE round(x::numeric, 2) END
$$;

-- THE FACT'S DIMENSION KEYS, checked by the build instead of by foreign keys. With foreign
-- keys on mart.fact_trip, ATTACH PARTITION validates each of the eight on the new month, one
-- join over the whole partition per key, serially: 4.1 s of a 25 s build on a 3 M-row month,
-- re-checking what insertion.sql has just made true. A partitioned table cannot carry
-- NOT VALID foreign keys in PostgreSQL 15, so they go, and the guarantee is kept as follows:
--   * at insert: insertion.sql is the fact's only writer, and it takes every key from the
--     dimension in the same transaction: zones are in 1..265 (else rejected: zone_unknown)
--     and mart.dim_zone is given all of 1..265 first; vendor, payment type and rate code are
--     the dimension's members or its unknown member -1; pickup_date_id is a day of the month
--     that mart.ensure_calendar has just filled; pickup_hour is 0..23; service_id is the
--     build's own (the partition's bounds CHECK). The CHECKs below restate what a CHECK can:
--     the zone and hour ranges, whose dimensions hold exactly those members.
--   * afterwards: a dimension member a fact row uses cannot be deleted, nor its key changed,
--     nor the dimension truncated while the fact has rows (the triggers below), which is what
--     the foreign keys' NO ACTION did.
-- crates/mart/tests/build.rs checks, after real builds, that every fact key is in its
-- dimension and that removing a used member fails.
ALTER TABLE mart.fact_trip
    DROP CONSTRAINT IF EXISTS fact_trip_service_id_fkey,
    DROP CONSTRAINT IF EXISTS fact_trip_pickup_date_id_fkey,
    DROP CONSTRAINT IF EXISTS fact_trip_pickup_hour_fkey,
    DROP CONSTRAINT IF EXISTS fact_trip_pu_zone_id_fkey,
    DROP CONSTRAINT IF EXISTS fact_trip_do_zone_id_fkey,
    DROP CONSTRAINT IF EXISTS fact_trip_vendor_id_fkey,
    DROP CONSTRAINT IF EXISTS fact_trip_payment_type_id_fkey,
    DROP CONSTRAINT IF EXISTS fact_trip_rate_code_id_fkey,
    -- No BETWEEN in the first: mart.constrain_build_table copies each CHECK by its deparsed
    -- text, which for two BETWEENs reparses into a flat AND that ATTACH calls different.
    ADD CONSTRAINT fact_trip_zones
        CHECK (pu_zone_id >= 1 AND pu_zone_id <= 265 AND do_zone_id >= 1 AND do_zone_id <= 265),
    ADD CONSTRAINT fact_trip_hour CHECK (pickup_hour BETWEEN 0 AND 23);

-- Refuses to delete a dimension member, or change its key, while a fact row uses it.
-- TG_ARGV: the dimension's key column, then each fact column that holds it, as
-- 'table.column' in schema mart (a fact table added later adds its columns to the list).
CREATE OR REPLACE FUNCTION mart.keep_used_dimension_member() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    member text := to_jsonb(OLD) ->> TG_ARGV[0];
    used boolean;
BEGIN
    IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) ->> TG_ARGV[0]) IS NOT DISTINCT FROM member THEN
        RETURN NEW;
    END IF;
    FOR i IN 1 .. TG_NARGS - 1 LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM mart.%I WHERE %I = $1::int)',
                       split_part(TG_ARGV[i], '.', 1), split_part(TG_ARGV[i], '.', 2))
            INTO used USING member;
        IF used THEN
            RAISE EXCEPTION 'mart.% member % is used by mart.%', TG_TABLE_NAME, member, TG_ARGV[i]
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    END LOOP;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;

-- Refuses to truncate a dimension while a fact table of TG_ARGV (in schema mart) has rows.
CREATE OR REPLACE FUNCTION mart.keep_dimension_of_facts() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    used boolean;
BEGIN
    FOR i IN 0 .. TG_NARGS - 1 LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM mart.%I)', TG_ARGV[i]) INTO used;
        IF used THEN
            RAISE EXCEPTION 'mart.% is a dimension of mart.%, which has rows', TG_TABLE_NAME, TG_ARGV[i]
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

CREATE TRIGGER fact_member BEFORE DELETE OR UPDATE ON mart.dim_service
    FOR EACH ROW EXECUTE FUNCTION mart.keep_used_dimension_member('service_id', 'fact_trip.service_id');
CREATE TRIGGER fact_member BEFORE DELETE OR UPDATE ON mart.dim_date
    FOR EACH ROW EXECUTE FUNCTION mart.keep_used_dimension_member('date_id', 'fact_trip.pickup_date_id');
CREATE TRIGGER fact_member BEFORE DELETE OR UPDATE ON mart.dim_time_of_day
    FOR EACH ROW EXECUTE FUNCTION mart.keep_used_dimension_member('hour', 'fact_trip.pickup_hour');
CREATE TRIGGER fact_member BEFORE DELETE OR UPDATE ON mart.dim_zone
    FOR EACH ROW EXECUTE FUNCTION mart.keep_used_dimension_member('zone_id', 'fact_trip.pu_zone_id',
                                                                  'fact_trip.do_zone_id');
CREATE TRIGGER fact_member BEFORE DELETE OR UPDATE ON mart.dim_vendor
    FOR EACH ROW EXECUTE FUNCTION mart.keep_used_dimension_member('vendor_id', 'fact_trip.vendor_id');
CREATE TRIGGER fact_member BEFORE DELETE OR UPDATE ON mart.dim_payment_type
    FOR EACH ROW EXECUTE FUNCTION mart.keep_used_dimension_member('payment_type_id', 'fact_trip.payment_type_id');
CREATE TRIGGER fact_member BEFORE DELETE OR UPDATE ON mart.dim_rate_code
    FOR EACH ROW EXECUTE FUNCTION mart.keep_used_dimension_member('rate_code_id', 'fact_trip.rate_code_id');
CREATE TRIGGER fact_dimension BEFORE TRUNCATE ON mart.dim_service
    FOR EACH STATEMENT EXECUTE FUNCTION mart.keep_dimension_of_facts('fact_trip');
CREATE TRIGGER fact_dimension BEFORE TRUNCATE ON mart.dim_date
    FOR EACH STATEMENT EXECUTE FUNCTION mart.keep_dimension_of_facts('fact_trip');
CREATE TRIGGER fact_dimension BEFORE TRUNCATE ON mart.dim_time_of_day
    FOR EACH STATEMENT EXECUTE FUNCTION mart.keep_dimension_of_facts('fact_trip');
CREATE TRIGGER fact_dimension BEFORE TRUNCATE ON mart.dim_zone
    FOR EACH STATEMENT EXECUTE FUNCTION mart.keep_dimension_of_facts('fact_trip');
CREATE TRIGGER fact_dimension BEFORE TRUNCATE ON mart.dim_vendor
    FOR EACH STATEMENT EXECUTE FUNCTION mart.keep_dimension_of_facts('fact_trip');
CREATE TRIGGER fact_dimension BEFORE TRUNCATE ON mart.dim_payment_type
    FOR EACH STATEMENT EXECUTE FUNCTION mart.keep_dimension_of_facts('fact_trip');
CREATE TRIGGER fact_dimension BEFORE TRUNCATE ON mart.dim_rate_code
    FOR EACH STATEMENT EXECUTE FUNCTION mart.keep_dimension_of_facts('fact_trip');
