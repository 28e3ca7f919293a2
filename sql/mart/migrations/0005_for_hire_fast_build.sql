-- Migration 5: the for-hire build does less work for the same result, as migration 4 did for
-- the taxis' (its header says why each step is exact).
--
-- Money: mart.passenger_total sums mart.round_cents of each charge (the same values as
-- round(x::numeric, 2): migration 4), and insertion_for_hire.sql rounds with it too.
CREATE OR REPLACE FUNCTION mart.passenger_total(base_passenger_fare float8, tolls float8, bcf float8,
                                                sales_tax float8, congestion_surcharge float8,
                                                airport_fee float8, cbd_congestion_fee float8, tips float8)
RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(mart.round_cents(base_passenger_fare), 0) + coalesce(mart.round_cents(tolls), 0)
         + coalesce(mart.round_cents(bcf), 0) + coalesce(mart.round_cents(sales_tax), 0)
         + coalesce(mart.round_cents(congestion_surcharge), 0) + coalesce(mart.round_cents(airport_fee), 0)
         + coalesce(mart.round_cents(cbd_congestion_fee), 0) + coalesce(mart.round_cents(tips), 0)
$$;

-- The for-hire fact's dimension keys are guaranteed by insertion_for_hire.sql (every key
-- taken from its dimension in the same transaction: zones 1..265 or rejected, the month's
-- days from mart.ensure_calendar, the services and bases inserted before the swap) and
-- guarded on the dimensions' side by migration 4's triggers, extended below to this fact;
-- ATTACH PARTITION then validates no foreign key over a 20 M-row month.
ALTER TABLE mart.fact_for_hire_trip
    DROP CONSTRAINT IF EXISTS fact_for_hire_trip_service_id_fkey,
    DROP CONSTRAINT IF EXISTS fact_for_hire_trip_pickup_date_id_fkey,
    DROP CONSTRAINT IF EXISTS fact_for_hire_trip_pickup_hour_fkey,
    DROP CONSTRAINT IF EXISTS fact_for_hire_trip_pu_zone_id_fkey,
    DROP CONSTRAINT IF EXISTS fact_for_hire_trip_do_zone_id_fkey,
    DROP CONSTRAINT IF EXISTS fact_for_hire_trip_dispatching_base_num_fkey,
    -- No BETWEEN: see migration 4 (constraints are copied to the build table by their text).
    ADD CONSTRAINT fact_for_hire_zones
        CHECK (pu_zone_id >= 1 AND pu_zone_id <= 265 AND do_zone_id >= 1 AND do_zone_id <= 265),
    ADD CONSTRAINT fact_for_hire_hour CHECK (pickup_hour >= 0 AND pickup_hour <= 23);

-- Migration 4's guard compared keys as integers; base numbers are text.
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
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM mart.%I WHERE %I::text = $1)',
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

CREATE OR REPLACE TRIGGER fact_member BEFORE DELETE OR UPDATE ON mart.dim_service
    FOR EACH ROW EXECUTE FUNCTION mart.keep_used_dimension_member('service_id', 'fact_trip.service_id',
                                                                  'fact_for_hire_trip.service_id');
CREATE OR REPLACE TRIGGER fact_member BEFORE DELETE OR UPDATE ON mart.dim_date
    FOR EACH ROW EXECUTE FUNCTION mart.keep_used_dimension_member('date_id', 'fact_trip.pickup_date_id',
                                                                  'fact_for_hire_trip.pickup_date_id');
CREATE OR REPLACE TRIGGER fact_member BEFORE DELETE OR UPDATE ON mart.dim_time_of_day
    FOR EACH ROW EXECUTE FUNCTION mart.keep_used_dimension_member('hour', 'fact_trip.pickup_hour',
                                                                  'fact_for_hire_trip.pickup_hour');
CREATE OR REPLACE TRIGGER fact_member BEFORE DELETE OR UPDATE ON mart.dim_zone
    FOR EACH ROW EXECUTE FUNCTION mart.keep_used_dimension_member('zone_id', 'fact_trip.pu_zone_id',
                                                                  'fact_trip.do_zone_id',
                                                                  'fact_for_hire_trip.pu_zone_id',
                                                                  'fact_for_hire_trip.do_zone_id');
CREATE OR REPLACE TRIGGER fact_member BEFORE DELETE OR UPDATE ON mart.dim_base
    FOR EACH ROW EXECUTE FUNCTION mart.keep_used_dimension_member('base_num',
                                                                  'fact_for_hire_trip.dispatching_base_num');
CREATE OR REPLACE TRIGGER fact_dimension BEFORE TRUNCATE ON mart.dim_service
    FOR EACH STATEMENT EXECUTE FUNCTION mart.keep_dimension_of_facts('fact_trip', 'fact_for_hire_trip');
CREATE OR REPLACE TRIGGER fact_dimension BEFORE TRUNCATE ON mart.dim_date
    FOR EACH STATEMENT EXECUTE FUNCTION mart.keep_dimension_of_facts('fact_trip', 'fact_for_hire_trip');
CREATE OR REPLACE TRIGGER fact_dimension BEFORE TRUNCATE ON mart.dim_time_of_day
    FOR EACH STATEMENT EXECUTE FUNCTION mart.keep_dimension_of_facts('fact_trip', 'fact_for_hire_trip');
CREATE OR REPLACE TRIGGER fact_dimension BEFORE TRUNCATE ON mart.dim_zone
    FOR EACH STATEMENT EXECUTE FUNCTION mart.keep_dimension_of_facts('fact_trip', 'fact_for_hire_trip');
CREATE OR REPLACE TRIGGER fact_dimension BEFORE TRUNCATE ON mart.dim_base
    FOR EACH STATEMENT EXECUTE FUNCTION mart.keep_dimension_of_facts('fact_for_hire_trip');
