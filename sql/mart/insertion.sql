-- Staging → mart: cleans one month of one service from mart.staging_trip into its fact
-- partition, its aggregate rows, its rejects and its build_log row, in one transaction.
--
-- Parameters (session settings, so psql and atl-mart run this file unchanged):
--     atl.month    first day of the month, e.g. '2023-01-01'
--     atl.service  'yellow' or 'green' (fhv and fhvhv: insertion_for_hire.sql)
--     atl.warehouse_total  optional: the month's sum of total_amount rounded to cents, the
--                  warehouse's figure (atl-mart sets it: its load's count, raw.load_totals,
--                  where the rows it copied add up to it, else the warehouse server's count of
--                  the snapshot it copied); unset or '', it is summed from the staging table
--     atl.warehouse_rows  optional: the month's rows, the warehouse's figure likewise;
--                  unset or '', they are counted in the staging table
--     atl.fact_prebuilt  'on' when atl-mart has already streamed the month's clean rows into
--                  mart.fact_trip_build (made by mart.new_build_table) and staged only the
--                  rejected ones (see HOW); unset, every staged row is cleaned here
--     atl.warehouse_loaded_at  optional: raw.load_log.finished_at of the month as copied,
--                  recorded in build_log so atl-mart knows which load it built from
-- By hand, after creation.sql and staging_fdw.sql (see README.md):
--     psql "$MART_URL" -v ON_ERROR_STOP=1 \
--          -c "SELECT set_config('atl.month', '2023-01-01', false), set_config('atl.service', 'yellow', false)" \
--          -f sql/mart/insertion.sql
--
-- CLEANING RULES. Every staged row ends either in mart.fact_trip or in mart.rejects under
-- exactly one reason: the first rule it fails, in this order (one CASE expression below).
-- BEGIN GENERATED rules: from crates/mart/src/cleaning (edit there; cargo test rewrites this)
--   timestamp_missing         pickup or dropoff is null
--   pickup_outside_month      pickup not in [month, month + 1 month): the TLC files hold trips
--                             dated in other months, sometimes years off
--   dropoff_not_after_pickup  dropoff <= pickup
--   trip_over_24h             dropoff more than 24 hours after pickup
--   zone_unknown              pickup or dropoff zone null or not in 1..265 (the zone table)
--   distance_not_positive     trip_distance null or <= 0 mi once rounded to the hundredth, as
--                             the fact holds it (0.004 mi is 0.00)
--   distance_over_500mi       trip_distance > 500 mi (the meter's 100,000+ mile glitches)
--   amount_missing            fare_amount or total_amount null
--   amount_negative           fare_amount < 0 or total_amount < 0 (refunds and disputes)
--   amount_over_10000         any amount column above $10,000 in absolute value (or NaN)
-- END GENERATED rules
-- Not reasons to reject (the row is kept):
--   vendor, payment type and rate code: null or unlisted → the unknown member -1
--   passenger_count: null, fractional or outside 0..9 → null (it is typed by the driver)
--   store_and_fwd_flag: 'Y' → true, 'N' → false, anything else → null
-- Money and distance are rounded by the one rule of the mart, mart.round_cents(x) =
-- round(x::numeric, 2) (migration 0004), and the fact holds them as whole cents and hundredths
-- of a mile (integer columns *_cents and trip_distance_hundredths, migration 0007); the
-- roll-ups and aggregates give dollars and miles. Duration: whole seconds.
-- Sums "as numeric" below are sums of total_amount rounded to cents, in dollars.
--
-- HOW (the build's cost is a few full passes over the month; each is counted here):
--   0. the table that becomes the month's partition, mart.fact_trip_build, is made empty with
--      the fact's columns, NOT NULL and CHECK constraints and one CHECK matching the
--      partition bounds (mart.new_build_table), so rows are checked as they arrive;
--   1. staging, once: the staged rows (and money, unless the warehouse's figures are given),
--      counted independently of the rules;
--   2. staging, once: the rejected rows (a few percent) into a temporary table;
--   3. staging, once: the clean rows, converted, into mart.fact_trip_build;
--   4. the new table, three times in parallel: three roll-ups every aggregate is summed from
--      (unless atl-mart made them: see below);
--   5. nothing: ATTACH PARTITION finds the bounds CHECK (no partition-constraint scan) and
--      no foreign key to validate (the fact's dimension keys are guaranteed by this file and
--      guarded on the dimensions' side: migration 0004).
--   build_log's figures come from 1, the rejects and one pass over one column of the new
--   table, which the roll-ups of 4 must agree with.
-- atl-mart does 0, 3 and 4 in the stream between the servers (crates/mart/src/cleaning: the
-- rules, conversions and roll-ups below are generated from its declarations, and it applies
-- the same ones to each row in flight): it makes mart.fact_trip_build and fills it with the
-- clean rows in one transaction, makes the roll-up tables of step 4 from the same rows,
-- stages only the rejected rows, and runs this file with atl.fact_prebuilt = 'on' and the
-- warehouse's figures. Steps 2 and 3 then pass over the rejected rows only (3 finds none
-- clean), step 4 finds its tables made, and the month costs one write of its rows and one
-- read of their total_amount.

BEGIN;

-- One build at a time: there is one staging table (atl-mart also holds this lock, per
-- session, while it fills the staging table).
SELECT pg_advisory_xact_lock(4281421);

SET LOCAL client_min_messages = warning;
-- The roll-ups' hash tables (bounded by the dimensions: a few MB) stay in memory even when
-- the planner, without statistics on the new table, expects more groups.
SET LOCAL work_mem = '256MB';
-- The month's full passes are worth parallel workers: the new table has no statistics yet to
-- tell the planner its size (step 4).
SET LOCAL parallel_tuple_cost = 0.01;
SET LOCAL parallel_setup_cost = 0;
-- JIT compilation pays for none of these statements here (measured), and costs ~0.1 s on
-- each small one the planner misjudges without statistics.
SET LOCAL jit = off;

CREATE TEMP TABLE build_params ON COMMIT DROP AS
SELECT s.service_id,
       s.name AS service,
       m.month AS month_start,
       (m.month + interval '1 month')::timestamp AS month_end,
       to_char(m.month, 'YYYYMM')::int AS month_id,
       clock_timestamp() AS started_at
FROM (SELECT current_setting('atl.month')::date::timestamp AS month) m
JOIN mart.dim_service s ON s.name = current_setting('atl.service');

DO $$
BEGIN
    IF (SELECT count(*) FROM build_params) <> 1 THEN
        RAISE EXCEPTION 'atl.service must be yellow or green (got %)', current_setting('atl.service');
    END IF;
    IF date_trunc('month', current_setting('atl.month')::date) <> current_setting('atl.month')::date THEN
        RAISE EXCEPTION 'atl.month must be the first day of a month (got %)', current_setting('atl.month');
    END IF;
END $$;

-- Calendar: the month, one day either side (dropoffs cross midnight of the last day).
SELECT mart.ensure_calendar((month_start - interval '1 day')::date, month_end::date) FROM build_params;

-- Zones from the staged taxi_zone_lookup.csv, then any of 1..265 still missing as
-- 'Unknown zone N' (migrations/0002_for_hire.sql).
SELECT mart.refresh_zones();

-- The rules, as one CASE: the first failing rule is the row's reason; null means clean.
-- The service and the month's bounds are written into the view as constants (format()), so
-- that the planner sees constants, and no temporary table, in the queries over it: they may
-- then scan the staging table with parallel workers. build_constants does the same for what
-- step 3 needs: the month's first date_id, and the code dimensions' members as arrays (an
-- IN (SELECT ...) per row, three of them, cost 1.5 s of CPU on a 3 M-row month; a constant
-- array costs next to nothing). The members are read once, in this transaction.
-- BEGIN GENERATED classify: from crates/mart/src/cleaning (edit there; cargo test rewrites this)
DO $do$
DECLARE
    p build_params;
BEGIN
    SELECT * INTO STRICT p FROM build_params;
    EXECUTE format($view$
CREATE TEMP VIEW build_constants AS
SELECT %1$L::date AS month_start, %2$s::int AS first_date_id,
       %3$L::bigint[] AS vendor_ids, %4$L::float8[] AS payment_type_ids, %5$L::float8[] AS rate_code_ids
$view$, p.month_start::date, p.month_id * 100 + 1,
        (SELECT array_agg(vendor_id ORDER BY vendor_id) FROM mart.dim_vendor),
        (SELECT array_agg(payment_type_id ORDER BY payment_type_id) FROM mart.dim_payment_type),
        (SELECT array_agg(rate_code_id ORDER BY rate_code_id) FROM mart.dim_rate_code));
    EXECUTE format($view$
CREATE TEMP VIEW classified_trip AS
SELECT %1$s::smallint AS service_id, %2$L::date AS month_start, s.ctid AS staged_ctid, s.*,
       CASE
           WHEN s.pickup_at IS NULL OR s.dropoff_at IS NULL THEN 'timestamp_missing'
           WHEN s.pickup_at < %2$L::timestamp OR s.pickup_at >= %3$L::timestamp
               THEN 'pickup_outside_month'
           WHEN s.dropoff_at <= s.pickup_at THEN 'dropoff_not_after_pickup'
           WHEN s.dropoff_at > s.pickup_at + interval '24 hours' THEN 'trip_over_24h'
           WHEN s.pulocationid IS NULL OR s.dolocationid IS NULL
                OR s.pulocationid NOT BETWEEN 1 AND 265 OR s.dolocationid NOT BETWEEN 1 AND 265
               THEN 'zone_unknown'
           WHEN s.trip_distance IS NULL OR mart.round_cents(s.trip_distance) <= 0
               THEN 'distance_not_positive'
           WHEN s.trip_distance > 500 THEN 'distance_over_500mi'
           WHEN s.fare_amount IS NULL OR s.total_amount IS NULL THEN 'amount_missing'
           WHEN s.fare_amount < 0 OR s.total_amount < 0 THEN 'amount_negative'
           WHEN greatest(abs(s.fare_amount), abs(s.extra), abs(s.mta_tax), abs(s.tip_amount),
                         abs(s.tolls_amount), abs(s.improvement_surcharge), abs(s.total_amount),
                         abs(s.congestion_surcharge), abs(s.airport_fee),
                         abs(s.cbd_congestion_fee), abs(s.ehail_fee)) > 10000
               THEN 'amount_over_10000'
       END AS reason
FROM mart.staging_trip s
$view$, p.service_id, p.month_start, p.month_end);
END
$do$;
-- END GENERATED classify

-- 1. The staged month as a whole, counted without the rules: build_log checks that it equals
-- fact + rejects. Its rows and money are the warehouse's own figures when
-- atl.warehouse_rows and atl.warehouse_total give them (the sum below, a conversion of every
-- row, then never runs).
CREATE TEMP TABLE staged_total ON COMMIT DROP AS
SELECT coalesce(nullif(current_setting('atl.warehouse_rows', true), '')::bigint, count(*)) AS rows,
       coalesce(nullif(current_setting('atl.warehouse_total', true), '')::numeric,
                (SELECT coalesce(sum(mart.round_cents(total_amount)), 0) FROM mart.staging_trip)) AS total,
       count(*) FILTER (WHERE source_month IS DISTINCT FROM month_start) AS other_month_rows
FROM classified_trip;

DO $$
BEGIN
    IF (SELECT other_month_rows FROM staged_total) > 0 THEN
        RAISE EXCEPTION 'mart.staging_trip holds rows of another month than %', current_setting('atl.month');
    END IF;
END $$;

-- 2. The rejected rows: their keys and what is summed of them below, by the rounding rule.
-- The samples fetch their few staged rows whole by staged_ctid (insertion_for_hire.sql says
-- why).
CREATE TEMP TABLE rejected_trip ON COMMIT DROP AS
SELECT reason, source_row, staged_ctid, pickup_at, payment_type,
       mart.round_cents(total_amount) AS total, mart.round_cents(tip_amount) AS tip
FROM classified_trip WHERE reason IS NOT NULL;

-- 0. The month's new partition, empty and constrained, unless atl-mart made and filled it.
SELECT mart.new_build_table(service, month_start::date) FROM build_params
WHERE current_setting('atl.fact_prebuilt', true) IS DISTINCT FROM 'on';

-- 3. The clean rows, converted, into the month's new partition. Unlisted vendor, payment
-- type and rate codes become the unknown member -1. Money and distance: mart.round_cents,
-- the rounding rule (migration 0004). The date, hour and duration are computed without
-- numeric: extract() returns numeric since PostgreSQL 14, and its three calls per row for the
-- date cost 2.6 s of CPU on a 3 M-row month. Each expression equals the one it replaces on
-- every clean row: the pickup lies in the month (pickup_outside_month), so its date_id is the
-- month's first plus its day offset; 0 < duration <= 24 h (the duration rules), so the
-- float8 epoch of the interval is exact to the microsecond and floor(+ 0.5) rounds half away
-- from zero as numeric round() did.
-- BEGIN GENERATED convert: from crates/mart/src/cleaning (edit there; cargo test rewrites this)
INSERT INTO mart.fact_trip_build (service_id, pickup_at, dropoff_at, pickup_date_id, pickup_hour, pu_zone_id,
                                 do_zone_id, vendor_id, payment_type_id, rate_code_id,
                                 passenger_count, store_and_fwd, trip_type, duration_sec,
                                 trip_distance_hundredths, fare_amount_cents, extra_cents,
                                 mta_tax_cents, tip_amount_cents, tolls_amount_cents,
                                 improvement_surcharge_cents, congestion_surcharge_cents,
                                 airport_fee_cents, cbd_congestion_fee_cents, ehail_fee_cents,
                                 total_amount_cents, source_month, source_row)
SELECT
       c.service_id,
       c.pickup_at,
       c.dropoff_at,
       k.first_date_id + (c.pickup_at::date - k.month_start) AS pickup_date_id,
       date_part('hour', c.pickup_at)::smallint AS pickup_hour,
       c.pulocationid::int AS pu_zone_id,
       c.dolocationid::int AS do_zone_id,
       CASE WHEN c.vendorid = ANY (k.vendor_ids) THEN c.vendorid::int ELSE -1 END AS vendor_id,
       CASE WHEN c.payment_type = ANY (k.payment_type_ids) THEN c.payment_type::int ELSE -1 END AS payment_type_id,
       CASE WHEN c.ratecodeid = ANY (k.rate_code_ids) THEN c.ratecodeid::int ELSE -1 END AS rate_code_id,
       CASE WHEN c.passenger_count IN (0, 1, 2, 3, 4, 5, 6, 7, 8, 9) THEN c.passenger_count::smallint END AS passenger_count,
       CASE c.store_and_fwd_flag WHEN 'Y' THEN true WHEN 'N' THEN false END AS store_and_fwd,
       CASE WHEN c.trip_type IN (1, 2) THEN c.trip_type::smallint END AS trip_type,
       floor(date_part('epoch', c.dropoff_at - c.pickup_at) + 0.5)::int AS duration_sec,
       (mart.round_cents(c.trip_distance) * 100)::int AS trip_distance_hundredths,
       (mart.round_cents(c.fare_amount) * 100)::int AS fare_amount_cents,
       (mart.round_cents(c.extra) * 100)::int AS extra_cents,
       (mart.round_cents(c.mta_tax) * 100)::int AS mta_tax_cents,
       (mart.round_cents(c.tip_amount) * 100)::int AS tip_amount_cents,
       (mart.round_cents(c.tolls_amount) * 100)::int AS tolls_amount_cents,
       (mart.round_cents(c.improvement_surcharge) * 100)::int AS improvement_surcharge_cents,
       (mart.round_cents(c.congestion_surcharge) * 100)::int AS congestion_surcharge_cents,
       (mart.round_cents(c.airport_fee) * 100)::int AS airport_fee_cents,
       (mart.round_cents(c.cbd_congestion_fee) * 100)::int AS cbd_congestion_fee_cents,
       (mart.round_cents(c.ehail_fee) * 100)::int AS ehail_fee_cents,
       (mart.round_cents(c.total_amount) * 100)::int AS total_amount_cents,
       c.source_month,
       c.source_row
FROM classified_trip c CROSS JOIN build_constants k
WHERE c.reason IS NULL;
-- END GENERATED convert

-- 4. The month's aggregates, from the new table: three small roll-ups (each one parallel
-- scan; GROUPING SETS would do them in one scan, but serially) fine enough for every aggregate
-- table, and the fact's own totals, to be summed from them. Their groups are bounded by the
-- dimensions (31 days x 24 hours x 8 payment types; 265 zones x 8; 50,000 distances).
-- atl-mart sums the same groups as it streams the clean rows and makes these tables before
-- running this file: IF NOT EXISTS then skips the three scans.
-- BEGIN GENERATED rollups: from crates/mart/src/cleaning (edit there; cargo test rewrites this)
CREATE TEMP TABLE IF NOT EXISTS rollup_day_hour_payment ON COMMIT DROP AS
SELECT pickup_date_id, pickup_hour, payment_type_id, coalesce((SELECT mart.zone_boroughs())[pu_zone_id + 1], (SELECT mart.pickup_borough(NULL))) AS pu_borough_id,
       count(*) AS trips,
       sum(total_amount_cents) * 0.01 AS revenue,
       sum(fare_amount_cents) * 0.01 AS fare_sum,
       sum(tip_amount_cents) * 0.01 AS tip_sum,
       sum(duration_sec) AS duration_sec_sum,
       sum(trip_distance_hundredths) * 0.01 AS distance_sum,
       count(*) FILTER (WHERE pu_zone_id IN (1, 132, 138) OR do_zone_id IN (1, 132, 138)
                              OR rate_code_id IN (2, 3)) AS airport_trips,
       count(*) FILTER (WHERE cbd_congestion_fee_cents > 0) AS cbd_trips,
       sum(cbd_congestion_fee_cents) * 0.01 AS cbd_fee_sum
FROM mart.fact_trip_build
GROUP BY pickup_date_id, pickup_hour, payment_type_id, coalesce((SELECT mart.zone_boroughs())[pu_zone_id + 1], (SELECT mart.pickup_borough(NULL)));

CREATE TEMP TABLE IF NOT EXISTS rollup_zone_payment ON COMMIT DROP AS
SELECT pu_zone_id, payment_type_id,
       count(*) AS trips,
       sum(total_amount_cents) * 0.01 AS revenue,
       sum(fare_amount_cents) * 0.01 AS fare_sum,
       sum(tip_amount_cents) * 0.01 AS tip_sum
FROM mart.fact_trip_build
GROUP BY pu_zone_id, payment_type_id;

CREATE TEMP TABLE IF NOT EXISTS rollup_distance ON COMMIT DROP AS
SELECT least(trip_distance_hundredths / 50 * 50, 3000) * 0.01 AS trip_distance, coalesce((SELECT mart.zone_boroughs())[pu_zone_id + 1], (SELECT mart.pickup_borough(NULL))) AS pu_borough_id,
       count(*) AS trips,
       sum(fare_amount_cents) * 0.01 AS fare_sum
FROM mart.fact_trip_build
GROUP BY least(trip_distance_hundredths / 50 * 50, 3000), coalesce((SELECT mart.zone_boroughs())[pu_zone_id + 1], (SELECT mart.pickup_borough(NULL)));
-- END GENERATED rollups

-- The new partition's rows and money as the server holds them (one parallel pass over a
-- single column): build_log's fact figures. The roll-ups must agree with them, whoever made
-- them, so the aggregates are those of the rows the month holds.
CREATE TEMP TABLE fact_total ON COMMIT DROP AS
SELECT count(*) AS rows, coalesce(sum(total_amount_cents), 0) * 0.01 AS total FROM mart.fact_trip_build;

DO $$
DECLARE
    held fact_total;
    rolled record;
BEGIN
    SELECT * INTO STRICT held FROM fact_total;
    SELECT coalesce(sum(trips), 0) AS rows, coalesce(sum(revenue), 0) AS total INTO STRICT rolled
    FROM rollup_day_hour_payment;
    IF (held.rows, held.total) IS DISTINCT FROM (rolled.rows, rolled.total) THEN
        RAISE EXCEPTION 'the roll-ups count % trips and % of total_amount, the new partition holds % and %',
            rolled.rows, rolled.total, held.rows, held.total;
    END IF;
END $$;

-- 5. Old partition out, new one in, in this transaction.
SELECT mart.swap_month_partition(service, month_start::date) FROM build_params;

DELETE FROM mart.rejects r USING build_params p WHERE r.service_id = p.service_id AND r.month_id = p.month_id;
INSERT INTO mart.rejects (service_id, month_id, reason, rows, total_amount_sum)
SELECT p.service_id, p.month_id, r.reason, count(*), coalesce(sum(r.total), 0)
FROM rejected_trip r CROSS JOIN build_params p
GROUP BY p.service_id, p.month_id, r.reason;

DELETE FROM mart.reject_samples r USING build_params p WHERE r.service_id = p.service_id AND r.month_id = p.month_id;
WITH first_ten AS MATERIALIZED (
    SELECT reason, source_row, staged_ctid
    FROM (SELECT reason, source_row, staged_ctid,
                 row_number() OVER (PARTITION BY reason COLLATE "C" ORDER BY source_row) AS n
          FROM rejected_trip) ranked
    WHERE n <= 10)
INSERT INTO mart.reject_samples (service_id, month_id, reason, source_row, row_data)
SELECT p.service_id, p.month_id, f.reason, f.source_row, to_jsonb(s)
FROM mart.staging_trip s
JOIN first_ten f ON f.staged_ctid = s.ctid
CROSS JOIN build_params p
WHERE s.ctid = ANY (ARRAY(SELECT staged_ctid FROM first_ten));

-- The aggregate tables, summed from the roll-ups of step 4, per pickup borough (a reader's
-- borough filter reads its own figures; the city is their sum). Card = payment type 1;
-- charged the congestion fee = cbd_congestion_fee above 0.
DELETE FROM mart.agg_daily a USING build_params p
WHERE a.service_id = p.service_id AND a.date_id / 100 = p.month_id;
INSERT INTO mart.agg_daily (service_id, date_id, pu_borough_id, trips, revenue, fare_sum, card_trips,
                            card_fare_sum, card_tip_sum, duration_sec_sum, distance_sum, airport_trips,
                            cbd_trips, cbd_fee_sum)
SELECT p.service_id, r.pickup_date_id, r.pu_borough_id, sum(r.trips), sum(r.revenue), sum(r.fare_sum),
       coalesce(sum(r.trips) FILTER (WHERE r.payment_type_id = 1), 0),
       coalesce(sum(r.fare_sum) FILTER (WHERE r.payment_type_id = 1), 0),
       coalesce(sum(r.tip_sum) FILTER (WHERE r.payment_type_id = 1), 0),
       sum(r.duration_sec_sum), sum(r.distance_sum), sum(r.airport_trips),
       sum(r.cbd_trips), coalesce(sum(r.cbd_fee_sum), 0)
FROM rollup_day_hour_payment r CROSS JOIN build_params p
GROUP BY p.service_id, r.pickup_date_id, r.pu_borough_id;

DELETE FROM mart.agg_hour_weekday a USING build_params p
WHERE a.service_id = p.service_id AND a.month_id = p.month_id;
INSERT INTO mart.agg_hour_weekday (service_id, month_id, pu_borough_id, weekday, hour, trips)
SELECT p.service_id, p.month_id, r.pu_borough_id, d.weekday, r.pickup_hour, sum(r.trips)
FROM rollup_day_hour_payment r JOIN mart.dim_date d ON d.date_id = r.pickup_date_id CROSS JOIN build_params p
GROUP BY p.service_id, p.month_id, r.pu_borough_id, d.weekday, r.pickup_hour;

DELETE FROM mart.agg_zone_month a USING build_params p
WHERE a.service_id = p.service_id AND a.month_id = p.month_id;
INSERT INTO mart.agg_zone_month (service_id, month_id, pu_zone_id, trips, revenue, card_fare_sum, card_tip_sum)
SELECT p.service_id, p.month_id, r.pu_zone_id, sum(r.trips), sum(r.revenue),
       coalesce(sum(r.fare_sum) FILTER (WHERE r.payment_type_id = 1), 0),
       coalesce(sum(r.tip_sum) FILTER (WHERE r.payment_type_id = 1), 0)
FROM rollup_zone_payment r CROSS JOIN build_params p
GROUP BY p.service_id, p.month_id, r.pu_zone_id;

DELETE FROM mart.agg_payment_month a USING build_params p
WHERE a.service_id = p.service_id AND a.month_id = p.month_id;
INSERT INTO mart.agg_payment_month (service_id, month_id, pu_borough_id, payment_type_id, trips, revenue)
SELECT p.service_id, p.month_id, r.pu_borough_id, r.payment_type_id, sum(r.trips), sum(r.revenue)
FROM rollup_day_hour_payment r CROSS JOIN build_params p
GROUP BY p.service_id, p.month_id, r.pu_borough_id, r.payment_type_id;

DELETE FROM mart.agg_fare_distance a USING build_params p
WHERE a.service_id = p.service_id AND a.month_id = p.month_id;
INSERT INTO mart.agg_fare_distance (service_id, month_id, pu_borough_id, distance_bin, trips, fare_sum)
SELECT p.service_id, p.month_id, r.pu_borough_id, least(floor(r.trip_distance * 2) / 2, 30), sum(r.trips),
       sum(r.fare_sum)
FROM rollup_distance r CROSS JOIN build_params p
GROUP BY 1, 2, 3, 4;

-- The month on the TLC's definition, for readers comparing the mart with the TLC's own
-- monthly indicators (not part of the accounting): every staged row picked up in the month,
-- whatever the rules say of it, with its total_amount and tip_amount, and the tips of card
-- trips (payment_type 1), which the TLC's farebox subtracts (migration 0011). That is the
-- fact's rows (all picked up in the month) and the rejected rows picked up in it.
INSERT INTO mart.agg_month_recorded AS r (service_id, month_id, trips, total_amount_sum, tip_amount_sum,
                                          card_tip_amount_sum)
SELECT p.service_id, p.month_id, f.trips + x.trips, f.total + x.total, f.tip + x.tip, f.card_tip + x.card_tip
FROM build_params p,
     (SELECT coalesce(sum(trips), 0) AS trips, coalesce(sum(revenue), 0) AS total,
             coalesce(sum(tip_sum), 0) AS tip,
             coalesce(sum(tip_sum) FILTER (WHERE payment_type_id = 1), 0) AS card_tip
      FROM rollup_day_hour_payment) f,
     (SELECT count(*) AS trips, coalesce(sum(j.total), 0) AS total,
             coalesce(sum(j.tip), 0) AS tip,
             coalesce(sum(j.tip) FILTER (WHERE j.payment_type = 1), 0) AS card_tip
      FROM rejected_trip j JOIN build_params q
        ON j.pickup_at >= q.month_start AND j.pickup_at < q.month_end) x
ON CONFLICT (service_id, month_id) DO UPDATE
SET trips = excluded.trips, total_amount_sum = excluded.total_amount_sum, tip_amount_sum = excluded.tip_amount_sum,
    card_tip_amount_sum = excluded.card_tip_amount_sum;

-- The accounting: staged = fact + rejected, in rows and in money; the build_log CHECKs
-- make a mismatch abort the whole transaction. Staged: step 1; fact: the new partition's
-- rows and money as the server holds them (fact_total); rejected: mart.rejects.
DELETE FROM mart.build_log b USING build_params p WHERE b.service_id = p.service_id AND b.month_id = p.month_id;
INSERT INTO mart.build_log (service_id, month_id, warehouse_rows, fact_rows, rejected_rows,
                            warehouse_total, fact_total, rejected_total, built_at, warehouse_loaded_at,
                            seconds, rows_per_sec)
SELECT p.service_id, p.month_id, w.rows, f.rows, r.rows, w.total, f.total, r.total, now(),
       nullif(current_setting('atl.warehouse_loaded_at', true), '')::timestamptz, sec,
       w.rows / greatest(sec, 1e-6)
FROM build_params p,
     staged_total w,
     fact_total f,
     (SELECT coalesce(sum(rows), 0) AS rows, coalesce(sum(total_amount_sum), 0) AS total
      FROM mart.rejects r2 WHERE (r2.service_id, r2.month_id) = (SELECT service_id, month_id FROM build_params)) r,
     -- atl-mart sets atl.started_at before it copies the month, so its time counts the transfer.
     LATERAL (SELECT extract(epoch FROM clock_timestamp()
                     - coalesce(nullif(current_setting('atl.started_at', true), '')::timestamptz, p.started_at))::float8 AS sec) t;

DROP VIEW classified_trip, build_constants;
COMMIT;
