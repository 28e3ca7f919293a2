-- Staging → mart for the for-hire kinds: cleans one month of fhv (other FHV) or fhvhv
-- (high-volume FHV: Uber, Lyft, ...) from mart.staging_for_hire into its fact partition
-- (mart.fact_for_hire_trip), its aggregate rows, its rejects and one build_log row per
-- service (licence), in one transaction. The taxis' twin is insertion.sql.
--
-- Parameters (session settings, so psql and atl-mart run this file unchanged):
--     atl.month    first day of the month, e.g. '2024-01-01'
--     atl.service  the kind: 'fhv' or 'fhvhv'
--     atl.warehouse_totals  optional: the month's rows and passenger total per licence, the
--                  warehouse's figures (atl-mart sets it: its load's count, raw.load_totals,
--                  where the rows it copied add up to it, else the warehouse server's count of
--                  the snapshot it copied), a JSON array of {"licence": "HV0003" or null, "rows": n,
--                  "total": "123.45"}; unset or '', they are counted from the staging table
--     atl.warehouse_loaded_at  optional: raw.load_log.finished_at of the month as copied
--     atl.fact_prebuilt  'on' when atl-mart has already streamed the month's clean rows into
--                  mart.fact_for_hire_build (made by mart.new_for_hire_build_table) and
--                  staged the others (see HOW); unset, every staged row is cleaned here
-- By hand: README.md ("The for-hire services").
--
-- SERVICES. A row's service is its licence (mart.for_hire_key): HV0002 juno, HV0003 uber,
-- HV0004 via, HV0005 lyft; a code not listed becomes a new service named by the code; an
-- HVFHV row without licence goes to the service 'fhvhv'; every other-FHV row to 'fhv'.
--
-- CLEANING RULES. Every staged row ends either in mart.fact_for_hire_trip or in mart.rejects
-- under exactly one reason: the first rule it fails, in this order (one CASE expression).
-- BEGIN GENERATED for_hire_rules: from crates/mart/src/cleaning (edit there; cargo test rewrites this)
--   timestamp_missing         pickup or dropoff is null
--   pickup_outside_month      pickup not in [month, month + 1 month)
--   dropoff_not_after_pickup  dropoff <= pickup
--   trip_over_24h             dropoff more than 24 hours after pickup
--   zone_unknown              a zone that is not an integer in 1..265 (the zone table); for
--                             HVFHV also a missing zone (other-FHV files often leave them
--                             blank: kept, zone NULL)
--   distance_not_positive     HVFHV: trip_miles null or <= 0 once rounded to the hundredth, as
--                             the fact holds it (0.004 mi is 0.00)
--   distance_over_500mi       HVFHV: trip_miles > 500
--   amount_missing            HVFHV: base_passenger_fare null
--   amount_negative           HVFHV: the base fare or a passenger charge (tolls, bcf, sales
--                             tax, congestion, airport, CBD fee, tips) below 0 (refunds,
--                             adjustments)
--   amount_over_10000         any money column (driver_pay included) above $10,000 in absolute
--                             value (or NaN)
-- END GENERATED for_hire_rules
-- Not reasons to reject (the row is kept):
--   driver_pay below 0 (the TLC records pay adjustments): kept as recorded
--   request after pickup, or more than a day before it: wait_sec NULL
--   trip_time 0, negative or beyond an int: kept (0) or NULL (the others)
--   flags: 'Y' → true, 'N' → false, anything else (' ', null) → null; other FHV's SR_Flag 1 →
--   shared_request true, anything else → null (not recorded before 2017-05)
-- Money and miles are rounded by the mart's one rule, mart.round_cents(x) =
-- round(x::numeric, 2) (migration 0004), and the fact holds them as whole cents and hundredths
-- of a mile (integer columns *_cents and trip_miles_hundredths, migration 0008); the roll-ups
-- and aggregates give dollars and miles. Durations: whole seconds.
-- A passenger's total, passenger_total_cents, is mart.passenger_total(): base fare + tolls +
-- bcf + sales tax + congestion + airport + CBD fee + tips (0 for other FHV). build_log's money
-- is its sum: warehouse = fact + rejected, per service.
--
-- HOW: the month's new partition, mart.fact_for_hire_build, is made empty and constrained
-- (mart.new_for_hire_build_table); the staged month is classified once into rejects (a
-- temporary table) and clean rows, converted into the new partition; five roll-ups of it feed
-- every aggregate and build_log; it is swapped in as the partition (ATTACH finds its bounds
-- CHECK: no scan).
-- atl-mart makes the new partition and fills it with the clean rows as they stream from the
-- warehouse (crates/mart/src/cleaning: the rules and conversions below are generated from its
-- declarations, and it applies the same ones to each row in flight), stages only the others
-- (rejected rows, and the rare clean row it leaves to this file: a licence the mart would
-- not register, mart.register_licence; a text that is not ASCII), and runs this file with atl.fact_prebuilt = 'on' and
-- the warehouse's figures: the classification then passes over those staged rows only.

BEGIN;

-- One build at a time (the same lock as insertion.sql: the builds share dimensions).
SELECT pg_advisory_xact_lock(4281421);

SET LOCAL client_min_messages = warning;
SET LOCAL work_mem = '256MB';
SET LOCAL parallel_tuple_cost = 0.01;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL jit = off;

CREATE TEMP TABLE build_params ON COMMIT DROP AS
SELECT s.service_id AS kind_id,
       s.kind,
       m.month AS month_start,
       (m.month + interval '1 month')::timestamp AS month_end,
       to_char(m.month, 'YYYYMM')::int AS month_id,
       clock_timestamp() AS started_at
FROM (SELECT current_setting('atl.month')::date::timestamp AS month) m
JOIN mart.dim_service s ON s.name = current_setting('atl.service') AND s.kind = s.name
WHERE s.kind IN ('fhv', 'fhvhv');

DO $$
BEGIN
    IF (SELECT count(*) FROM build_params) <> 1 THEN
        RAISE EXCEPTION 'atl.service must be fhv or fhvhv (got %)', current_setting('atl.service');
    END IF;
    IF date_trunc('month', current_setting('atl.month')::date) <> current_setting('atl.month')::date THEN
        RAISE EXCEPTION 'atl.month must be the first day of a month (got %)', current_setting('atl.month');
    END IF;
END $$;

SELECT mart.ensure_calendar((month_start - interval '1 day')::date, month_end::date) FROM build_params;
SELECT mart.refresh_zones();

-- The staged month per licence: the warehouse's figures when atl-mart gives them, else
-- counted here (one pass; the scan is skipped when the figures are given).
CREATE TEMP TABLE staged_by_key ON COMMIT DROP AS
SELECT mart.for_hire_key(p.kind, w.licence) AS key, sum(w.rows)::bigint AS rows, sum(w.total) AS total
FROM jsonb_to_recordset(coalesce(nullif(current_setting('atl.warehouse_totals', true), ''), '[]')::jsonb)
         AS w(licence text, rows bigint, total numeric)
CROSS JOIN build_params p
GROUP BY 1;
INSERT INTO staged_by_key
SELECT mart.for_hire_key(p.kind, s.hvfhs_license_num), count(*),
       sum(mart.passenger_total(s.base_passenger_fare, s.tolls, s.bcf, s.sales_tax, s.congestion_surcharge,
                                s.airport_fee, s.cbd_congestion_fee, s.tips))
FROM mart.staging_for_hire s CROSS JOIN build_params p
WHERE nullif(current_setting('atl.warehouse_totals', true), '') IS NULL
GROUP BY 1;

DO $$
BEGIN
    IF EXISTS (SELECT FROM mart.staging_for_hire s, build_params p WHERE s.source_month <> p.month_start::date
               AND nullif(current_setting('atl.warehouse_totals', true), '') IS NULL) THEN
        RAISE EXCEPTION 'mart.staging_for_hire holds rows of another month than %', current_setting('atl.month');
    END IF;
END $$;

-- Licences seen for the first time become services named by their code (migration 14; atl-mart's
-- stream has registered those of its clean rows already).
DO $$
BEGIN
    PERFORM mart.register_licence(k.key) FROM staged_by_key k
    WHERE k.key <> '' AND NOT EXISTS (SELECT FROM mart.dim_service s WHERE s.licence = k.key);
END $$;

CREATE TEMP TABLE build_services ON COMMIT DROP AS
SELECT k.key, coalesce(s.service_id, p.kind_id) AS service_id, k.rows, k.total
FROM staged_by_key k CROSS JOIN build_params p
LEFT JOIN mart.dim_service s ON s.licence = k.key AND k.key <> '';

-- The rules, as one CASE (the first failing rule is the row's reason; null means clean).
-- The kind, the month's bounds and the licence → service map are written into the view as
-- constants (format()), so the queries over it may scan the staging table in parallel;
-- build_constants does the same for the conversions (the month's first day and date_id).
-- BEGIN GENERATED for_hire_classify: from crates/mart/src/cleaning (edit there; cargo test rewrites this)
DO $do$
DECLARE
    p build_params;
    services text;
BEGIN
    SELECT * INTO STRICT p FROM build_params;
    SELECT coalesce(string_agg(format('WHEN %L THEN %s', key, service_id), ' '), '') INTO services
    FROM build_services WHERE key <> '';
    EXECUTE format($view$
CREATE TEMP VIEW build_constants AS
SELECT %1$L::date AS month_start, %2$s::int AS first_date_id
$view$, p.month_start::date, p.month_id * 100 + 1);
    EXECUTE format($view$
CREATE TEMP VIEW classified_for_hire AS
SELECT %1$s::smallint AS kind_id,
       (CASE mart.for_hire_key(%4$L, s.hvfhs_license_num) WHEN '' THEN %1$s %5$s ELSE %1$s END)::smallint
           AS service_id,
       s.ctid AS staged_ctid, s.*,
       CASE
           WHEN s.pickup_at IS NULL OR s.dropoff_at IS NULL THEN 'timestamp_missing'
           WHEN s.pickup_at < %2$L::timestamp OR s.pickup_at >= %3$L::timestamp
               THEN 'pickup_outside_month'
           WHEN s.dropoff_at <= s.pickup_at THEN 'dropoff_not_after_pickup'
           WHEN s.dropoff_at > s.pickup_at + interval '24 hours' THEN 'trip_over_24h'
           WHEN s.pulocationid NOT BETWEEN 1 AND 265 OR s.pulocationid <> trunc(s.pulocationid)
                OR s.dolocationid NOT BETWEEN 1 AND 265
                OR s.dolocationid <> trunc(s.dolocationid) OR %6$s AND (s.pulocationid IS NULL
                OR s.dolocationid IS NULL)
               THEN 'zone_unknown'
           WHEN %6$s AND (s.trip_miles IS NULL OR mart.round_cents(s.trip_miles) <= 0)
               THEN 'distance_not_positive'
           WHEN %6$s AND (s.trip_miles > 500) THEN 'distance_over_500mi'
           WHEN %6$s AND (s.base_passenger_fare IS NULL) THEN 'amount_missing'
           WHEN %6$s AND (s.base_passenger_fare < 0 OR s.tolls < 0 OR s.bcf < 0
                OR s.sales_tax < 0 OR s.congestion_surcharge < 0 OR s.airport_fee < 0
                OR s.cbd_congestion_fee < 0 OR s.tips < 0)
               THEN 'amount_negative'
           WHEN greatest(abs(s.base_passenger_fare), abs(s.tolls), abs(s.bcf), abs(s.sales_tax),
                         abs(s.congestion_surcharge), abs(s.airport_fee),
                         abs(s.cbd_congestion_fee), abs(s.tips), abs(s.driver_pay)) > 10000
               THEN 'amount_over_10000'
       END AS reason
FROM mart.staging_for_hire s
$view$, p.kind_id, p.month_start, p.month_end, p.kind, services,
                  CASE WHEN p.kind = 'fhvhv' THEN 'true' ELSE 'false' END);
END
$do$;
-- END GENERATED for_hire_classify

-- The rejected rows, each with what is summed of it below by reason and by pickup month (its
-- passenger total, mart.passenger_total, and its tips by the rounding rule), computed once
-- here, in numeric, rather than in each sum. Only their keys: the samples fetch their few
-- staged rows whole by staged_ctid. A copy of every rejected row whole, and a sort of those
-- copies for the samples, were most of this script's time on a large month (618 k staged rows
-- of a 20 M-row month: 2.3 s and 5.5 s).
CREATE TEMP TABLE rejected_for_hire ON COMMIT DROP AS
SELECT service_id, reason, source_row, staged_ctid, pickup_at,
       mart.passenger_total(base_passenger_fare, tolls, bcf, sales_tax, congestion_surcharge, airport_fee,
                            cbd_congestion_fee, tips) AS passenger_total,
       mart.round_cents(tips) AS tips
FROM classified_for_hire WHERE reason IS NOT NULL;

-- The month's new partition, empty and constrained, unless atl-mart made and filled it.
SELECT mart.new_for_hire_build_table(kind, month_start::date) FROM build_params
WHERE current_setting('atl.fact_prebuilt', true) IS DISTINCT FROM 'on';

-- The clean rows, converted, into the month's new partition. The date, hour and durations are
-- computed without numeric (extract() returns numeric since PostgreSQL 14): the pickup lies in
-- the month and 0 <= duration <= 24 h, so the float8 epoch of the interval is exact to the
-- microsecond and floor(+ 0.5) rounds half away from zero.
-- BEGIN GENERATED for_hire_convert: from crates/mart/src/cleaning (edit there; cargo test rewrites this)
INSERT INTO mart.fact_for_hire_build (kind_id, service_id, pickup_at, dropoff_at, pickup_date_id, pickup_hour,
                                     pu_zone_id, do_zone_id, dispatching_base_num,
                                     originating_base_num, affiliated_base_num, request_at,
                                     on_scene_at, wait_sec, duration_sec, trip_time_sec,
                                     trip_miles_hundredths, base_passenger_fare_cents,
                                     tolls_cents, bcf_cents, sales_tax_cents,
                                     congestion_surcharge_cents, airport_fee_cents,
                                     cbd_congestion_fee_cents, tips_cents, driver_pay_cents,
                                     passenger_total_cents, shared_request, shared_match,
                                     access_a_ride, wav_request, wav_match, source_month,
                                     source_row)
SELECT
       c.kind_id,
       c.service_id,
       c.pickup_at,
       c.dropoff_at,
       k.first_date_id + (c.pickup_at::date - k.month_start) AS pickup_date_id,
       date_part('hour', c.pickup_at)::smallint AS pickup_hour,
       c.pulocationid::int AS pu_zone_id,
       c.dolocationid::int AS do_zone_id,
       nullif(upper(btrim(c.dispatching_base_num)), '') AS dispatching_base_num,
       nullif(upper(btrim(c.originating_base_num)), '') AS originating_base_num,
       nullif(upper(btrim(c.affiliated_base_number)), '') AS affiliated_base_num,
       c.request_datetime AS request_at,
       c.on_scene_datetime AS on_scene_at,
       CASE WHEN c.request_datetime <= c.pickup_at AND c.request_datetime >= c.pickup_at - interval '1 day' THEN floor(date_part('epoch', c.pickup_at - c.request_datetime) + 0.5)::int END AS wait_sec,
       floor(date_part('epoch', c.dropoff_at - c.pickup_at) + 0.5)::int AS duration_sec,
       CASE WHEN c.trip_time BETWEEN 0 AND 2147483647 THEN c.trip_time::int END AS trip_time_sec,
       (mart.round_cents(c.trip_miles) * 100)::int AS trip_miles_hundredths,
       (mart.round_cents(c.base_passenger_fare) * 100)::int AS base_passenger_fare_cents,
       (mart.round_cents(c.tolls) * 100)::int AS tolls_cents,
       (mart.round_cents(c.bcf) * 100)::int AS bcf_cents,
       (mart.round_cents(c.sales_tax) * 100)::int AS sales_tax_cents,
       (mart.round_cents(c.congestion_surcharge) * 100)::int AS congestion_surcharge_cents,
       (mart.round_cents(c.airport_fee) * 100)::int AS airport_fee_cents,
       (mart.round_cents(c.cbd_congestion_fee) * 100)::int AS cbd_congestion_fee_cents,
       (mart.round_cents(c.tips) * 100)::int AS tips_cents,
       (mart.round_cents(c.driver_pay) * 100)::int AS driver_pay_cents,
       ((coalesce(mart.round_cents(c.base_passenger_fare), 0) + coalesce(mart.round_cents(c.tolls), 0) + coalesce(mart.round_cents(c.bcf), 0) + coalesce(mart.round_cents(c.sales_tax), 0) + coalesce(mart.round_cents(c.congestion_surcharge), 0) + coalesce(mart.round_cents(c.airport_fee), 0) + coalesce(mart.round_cents(c.cbd_congestion_fee), 0) + coalesce(mart.round_cents(c.tips), 0)) * 100)::int AS passenger_total_cents,
       CASE WHEN c.sr_flag = 1 THEN true ELSE CASE upper(btrim(c.shared_request_flag)) WHEN 'Y' THEN true WHEN 'N' THEN false END END AS shared_request,
       CASE upper(btrim(c.shared_match_flag)) WHEN 'Y' THEN true WHEN 'N' THEN false END AS shared_match,
       CASE upper(btrim(c.access_a_ride_flag)) WHEN 'Y' THEN true WHEN 'N' THEN false END AS access_a_ride,
       CASE upper(btrim(c.wav_request_flag)) WHEN 'Y' THEN true WHEN 'N' THEN false END AS wav_request,
       CASE upper(btrim(c.wav_match_flag)) WHEN 'Y' THEN true WHEN 'N' THEN false END AS wav_match,
       c.source_month,
       c.source_row
FROM classified_for_hire c CROSS JOIN build_constants k
WHERE c.reason IS NULL;
-- END GENERATED for_hire_convert

-- The roll-ups every aggregate and build_log's fact figures are summed from (one parallel
-- scan each; their groups are bounded by the dimensions), and the month's dispatching bases.
-- atl-mart sums them all as it streams the clean rows and makes their tables before running
-- this file (unless it left clean rows to it): IF NOT EXISTS then skips the five scans.
-- BEGIN GENERATED for_hire_rollups: from crates/mart/src/cleaning (edit there; cargo test rewrites this)
CREATE TEMP TABLE IF NOT EXISTS rollup_day_hour ON COMMIT DROP AS
SELECT service_id, pickup_date_id, pickup_hour, coalesce((SELECT mart.zone_boroughs())[pu_zone_id + 1], (SELECT mart.pickup_borough(NULL))) AS pu_borough_id,
       count(*) AS trips,
       sum(passenger_total_cents) * 0.01 AS total_sum,
       sum(base_passenger_fare_cents) * 0.01 AS fare_sum,
       sum(driver_pay_cents) * 0.01 AS driver_pay_sum,
       sum(tips_cents) * 0.01 AS tips_sum,
       sum(trip_miles_hundredths) * 0.01 AS miles_sum,
       sum(duration_sec) AS duration_sec_sum,
       sum(trip_time_sec) AS trip_time_sec_sum,
       count(wait_sec) AS wait_trips,
       sum(wait_sec) AS wait_sec_sum,
       count(*) FILTER (WHERE shared_request) AS shared_request_trips,
       count(*) FILTER (WHERE shared_match) AS shared_match_trips,
       count(*) FILTER (WHERE wav_request) AS wav_request_trips,
       count(*) FILTER (WHERE wav_match) AS wav_match_trips,
       count(*) FILTER (WHERE access_a_ride) AS access_a_ride_trips,
       count(*) FILTER (WHERE pu_zone_id IN (1, 132, 138) OR do_zone_id IN (1, 132, 138)) AS airport_trips,
       count(*) FILTER (WHERE cbd_congestion_fee_cents > 0) AS cbd_trips,
       sum(cbd_congestion_fee_cents) * 0.01 AS cbd_fee_sum
FROM mart.fact_for_hire_build
GROUP BY service_id, pickup_date_id, pickup_hour, coalesce((SELECT mart.zone_boroughs())[pu_zone_id + 1], (SELECT mart.pickup_borough(NULL)));

CREATE TEMP TABLE IF NOT EXISTS rollup_zone ON COMMIT DROP AS
SELECT service_id, pu_zone_id,
       count(*) AS trips,
       sum(passenger_total_cents) * 0.01 AS total_sum
FROM mart.fact_for_hire_build
WHERE pu_zone_id IS NOT NULL
GROUP BY service_id, pu_zone_id;

CREATE TEMP TABLE IF NOT EXISTS rollup_miles ON COMMIT DROP AS
SELECT service_id, least(trip_miles_hundredths / 50 * 50, 3000) * 0.01 AS trip_miles, coalesce((SELECT mart.zone_boroughs())[pu_zone_id + 1], (SELECT mart.pickup_borough(NULL))) AS pu_borough_id,
       count(*) AS trips,
       sum(base_passenger_fare_cents) * 0.01 AS fare_sum
FROM mart.fact_for_hire_build
WHERE trip_miles_hundredths IS NOT NULL
GROUP BY service_id, least(trip_miles_hundredths / 50 * 50, 3000), coalesce((SELECT mart.zone_boroughs())[pu_zone_id + 1], (SELECT mart.pickup_borough(NULL)));

CREATE TEMP TABLE IF NOT EXISTS rollup_wait ON COMMIT DROP AS
SELECT service_id, pickup_hour, least(wait_sec / 30 * 30, 3600) AS wait_bin, coalesce((SELECT mart.zone_boroughs())[pu_zone_id + 1], (SELECT mart.pickup_borough(NULL))) AS pu_borough_id,
       count(*) AS trips
FROM mart.fact_for_hire_build
WHERE wait_sec IS NOT NULL
GROUP BY service_id, pickup_hour, least(wait_sec / 30 * 30, 3600), coalesce((SELECT mart.zone_boroughs())[pu_zone_id + 1], (SELECT mart.pickup_borough(NULL)));

CREATE TEMP TABLE IF NOT EXISTS rollup_base ON COMMIT DROP AS
SELECT dispatching_base_num, min(service_id) AS service_id, count(*) AS trips
FROM mart.fact_for_hire_build
WHERE dispatching_base_num IS NOT NULL
GROUP BY dispatching_base_num;
-- END GENERATED for_hire_rollups

-- Bases first seen this month (HVFHV bases with the licence they dispatched for).
INSERT INTO mart.dim_base (base_num, service_id)
SELECT r.dispatching_base_num, CASE WHEN p.kind = 'fhvhv' AND r.service_id <> p.kind_id THEN r.service_id END
FROM rollup_base r CROSS JOIN build_params p
ON CONFLICT (base_num) DO UPDATE SET service_id = EXCLUDED.service_id
    WHERE mart.dim_base.service_id IS NULL AND EXCLUDED.service_id IS NOT NULL;

-- Old partition out, new one in, in this transaction.
SELECT mart.swap_for_hire_partition(kind, month_start::date) FROM build_params;

-- Every service of the kind loses its rows of the month before the new ones go in: a
-- licence gone from a reloaded month must not keep its old figures.
CREATE TEMP TABLE kind_services ON COMMIT DROP AS
SELECT s.service_id, p.month_id FROM mart.dim_service s JOIN build_params p ON s.kind = p.kind;

DELETE FROM mart.rejects r USING kind_services k WHERE (r.service_id, r.month_id) = (k.service_id, k.month_id);
INSERT INTO mart.rejects (service_id, month_id, reason, rows, total_amount_sum)
SELECT r.service_id, p.month_id, r.reason, count(*),
       coalesce(sum(r.passenger_total), 0)
FROM rejected_for_hire r CROSS JOIN build_params p
GROUP BY r.service_id, p.month_id, r.reason;

DELETE FROM mart.reject_samples r USING kind_services k WHERE (r.service_id, r.month_id) = (k.service_id, k.month_id);
-- The first ten rows of each reason, as they were staged: ranked by their keys alone (the
-- reason compared bytewise: only equal reasons matter), then read by their staged_ctid.
WITH first_ten AS MATERIALIZED (
    SELECT service_id, reason, source_row, staged_ctid
    FROM (SELECT service_id, reason, source_row, staged_ctid,
                 row_number() OVER (PARTITION BY service_id, reason COLLATE "C" ORDER BY source_row) AS n
          FROM rejected_for_hire) ranked
    WHERE n <= 10)
INSERT INTO mart.reject_samples (service_id, month_id, reason, source_row, row_data)
SELECT f.service_id, p.month_id, f.reason, f.source_row, to_jsonb(s)
FROM mart.staging_for_hire s
JOIN first_ten f ON f.staged_ctid = s.ctid
CROSS JOIN build_params p
WHERE s.ctid = ANY (ARRAY(SELECT staged_ctid FROM first_ten));

-- The taxis' aggregate tables: revenue = passenger_total, fare = base_passenger_fare; per
-- pickup borough, as the taxis' (a trip with no pickup zone: the Unknown borough).
DELETE FROM mart.agg_daily a USING kind_services k WHERE a.service_id = k.service_id AND a.date_id / 100 = k.month_id;
INSERT INTO mart.agg_daily (service_id, date_id, pu_borough_id, trips, revenue, fare_sum, card_trips,
                            card_fare_sum, card_tip_sum, duration_sec_sum, distance_sum, airport_trips,
                            cbd_trips, cbd_fee_sum)
SELECT service_id, pickup_date_id, pu_borough_id, sum(trips), sum(total_sum), coalesce(sum(fare_sum), 0), 0, 0, 0,
       sum(duration_sec_sum), coalesce(sum(miles_sum), 0), sum(airport_trips), sum(cbd_trips),
       coalesce(sum(cbd_fee_sum), 0)
FROM rollup_day_hour
GROUP BY service_id, pickup_date_id, pu_borough_id;

DELETE FROM mart.agg_hour_weekday a USING kind_services k WHERE (a.service_id, a.month_id) = (k.service_id, k.month_id);
INSERT INTO mart.agg_hour_weekday (service_id, month_id, pu_borough_id, weekday, hour, trips)
SELECT r.service_id, p.month_id, r.pu_borough_id, d.weekday, r.pickup_hour, sum(r.trips)
FROM rollup_day_hour r JOIN mart.dim_date d ON d.date_id = r.pickup_date_id CROSS JOIN build_params p
GROUP BY r.service_id, p.month_id, r.pu_borough_id, d.weekday, r.pickup_hour;

DELETE FROM mart.agg_zone_month a USING kind_services k WHERE (a.service_id, a.month_id) = (k.service_id, k.month_id);
INSERT INTO mart.agg_zone_month (service_id, month_id, pu_zone_id, trips, revenue, card_fare_sum, card_tip_sum)
SELECT r.service_id, p.month_id, r.pu_zone_id, r.trips, r.total_sum, 0, 0
FROM rollup_zone r CROSS JOIN build_params p;

DELETE FROM mart.agg_fare_distance a USING kind_services k WHERE (a.service_id, a.month_id) = (k.service_id, k.month_id);
INSERT INTO mart.agg_fare_distance (service_id, month_id, pu_borough_id, distance_bin, trips, fare_sum)
SELECT r.service_id, p.month_id, r.pu_borough_id, least(floor(r.trip_miles * 2) / 2, 30), sum(r.trips),
       coalesce(sum(r.fare_sum), 0)
FROM rollup_miles r CROSS JOIN build_params p
GROUP BY 1, 2, 3, 4;

DELETE FROM mart.agg_for_hire_month a USING kind_services k WHERE (a.service_id, a.month_id) = (k.service_id, k.month_id);
INSERT INTO mart.agg_for_hire_month (service_id, month_id, pu_borough_id, trips, passenger_total_sum,
                                     base_fare_sum, driver_pay_sum, tips_sum, miles_sum, trip_time_sec_sum,
                                     wait_trips, wait_sec_sum, shared_request_trips, shared_match_trips,
                                     wav_request_trips, wav_match_trips, access_a_ride_trips)
SELECT r.service_id, p.month_id, r.pu_borough_id, sum(trips), sum(total_sum), sum(fare_sum), sum(driver_pay_sum),
       sum(tips_sum), sum(miles_sum), sum(trip_time_sec_sum), sum(wait_trips), sum(wait_sec_sum),
       sum(shared_request_trips), sum(shared_match_trips), sum(wav_request_trips), sum(wav_match_trips),
       sum(access_a_ride_trips)
FROM rollup_day_hour r CROSS JOIN build_params p
GROUP BY r.service_id, p.month_id, r.pu_borough_id;

DELETE FROM mart.agg_wait_hour a USING kind_services k WHERE (a.service_id, a.month_id) = (k.service_id, k.month_id);
INSERT INTO mart.agg_wait_hour (service_id, month_id, pu_borough_id, hour, wait_bin, trips)
SELECT r.service_id, p.month_id, r.pu_borough_id, r.pickup_hour, r.wait_bin, r.trips
FROM rollup_wait r CROSS JOIN build_params p;

-- Each service's month on the TLC's definition, beside the TLC's monthly indicators (not
-- part of the accounting; the taxis' is written by insertion.sql): every staged row picked up
-- in the month, whatever the rules say of it, i.e. the fact's rows and the rejected rows
-- picked up in it; a row per service staged, 0 trips when none was picked up in the month.
-- Money: the passenger totals and tips. card_tip_amount_sum stays NULL: for-hire rows record
-- no payment type, and the TLC reports no farebox for the for-hire classes.
DELETE FROM mart.agg_month_recorded a USING kind_services k WHERE (a.service_id, a.month_id) = (k.service_id, k.month_id);
INSERT INTO mart.agg_month_recorded (service_id, month_id, trips, total_amount_sum, tip_amount_sum)
SELECT b.service_id, p.month_id, coalesce(sum(x.trips), 0), coalesce(sum(x.total), 0), coalesce(sum(x.tips), 0)
FROM (SELECT DISTINCT service_id FROM build_services) b
CROSS JOIN build_params p
LEFT JOIN (SELECT service_id, sum(trips) AS trips, sum(total_sum) AS total, sum(tips_sum) AS tips
           FROM rollup_day_hour GROUP BY 1
           UNION ALL
           SELECT j.service_id, count(*),
                  sum(j.passenger_total), sum(j.tips)
           FROM rejected_for_hire j JOIN build_params q
             ON j.pickup_at >= q.month_start AND j.pickup_at < q.month_end
           GROUP BY 1) x USING (service_id)
GROUP BY b.service_id, p.month_id;

-- The accounting, per service: staged = fact + rejected, in rows and in passenger totals;
-- build_log's CHECKs abort the whole transaction on a mismatch.
DELETE FROM mart.build_log b USING kind_services k WHERE (b.service_id, b.month_id) = (k.service_id, k.month_id);
INSERT INTO mart.build_log (service_id, month_id, warehouse_rows, fact_rows, rejected_rows,
                            warehouse_total, fact_total, rejected_total, built_at, warehouse_loaded_at,
                            seconds, rows_per_sec)
SELECT s.service_id, p.month_id, s.rows, coalesce(f.rows, 0), coalesce(r.rows, 0), coalesce(s.total, 0),
       coalesce(f.total, 0), coalesce(r.total, 0), now(),
       nullif(current_setting('atl.warehouse_loaded_at', true), '')::timestamptz, t.sec,
       -- The build's speed: every service's rows, staged and cleaned together.
       (SELECT sum(rows) FROM build_services) / greatest(t.sec, 1e-6)
FROM build_services s
CROSS JOIN build_params p
LEFT JOIN (SELECT service_id, sum(trips) AS rows, sum(total_sum) AS total FROM rollup_day_hour GROUP BY 1) f
    USING (service_id)
LEFT JOIN (SELECT service_id, sum(rows) AS rows, sum(total_amount_sum) AS total
           FROM mart.rejects WHERE month_id = (SELECT month_id FROM build_params) GROUP BY 1) r
    USING (service_id)
CROSS JOIN LATERAL (SELECT extract(epoch FROM clock_timestamp()
                    - coalesce(nullif(current_setting('atl.started_at', true), '')::timestamptz, p.started_at))::float8 AS sec) t;

-- A row of a service absent from the staged figures would be in no build_log row.
DO $$
BEGIN
    IF EXISTS (SELECT service_id FROM rejected_for_hire EXCEPT SELECT service_id FROM build_services)
       OR EXISTS (SELECT service_id FROM rollup_day_hour EXCEPT SELECT service_id FROM build_services) THEN
        RAISE EXCEPTION 'the staged rows hold a licence that the warehouse figures (atl.warehouse_totals) do not';
    END IF;
END $$;

DROP VIEW classified_for_hire, build_constants;
COMMIT;
