-- Staging → mart: cleans one month of one service from mart.staging_trip into its fact
-- partition, its aggregate rows, its rejects and its build_log row, in one transaction.
--
-- Parameters (session settings, so psql and atl-mart run this file unchanged):
--     atl.month    first day of the month, e.g. '2023-01-01'
--     atl.service  'yellow' or 'green'
-- By hand, after creation.sql and staging_fdw.sql (see README.md):
--     psql "$MART_URL" -v ON_ERROR_STOP=1 \
--          -c "SELECT set_config('atl.month', '2023-01-01', false), set_config('atl.service', 'yellow', false)" \
--          -f sql/mart/insertion.sql
--
-- CLEANING RULES. Every staged row ends either in mart.fact_trip or in mart.rejects under
-- exactly one reason: the first rule it fails, in this order (one CASE expression below).
--   timestamp_missing         pickup or dropoff is null
--   pickup_outside_month      pickup not in [month, month + 1 month): the TLC files hold trips
--                             dated in other months, sometimes years off
--   dropoff_not_after_pickup  dropoff <= pickup
--   trip_over_24h             dropoff more than 24 hours after pickup
--   zone_unknown              pickup or dropoff zone null or not in 1..265 (the zone table)
--   distance_not_positive     trip_distance null or <= 0 mi
--   distance_over_500mi       trip_distance > 500 mi (the meter's 100,000+ mile glitches)
--   amount_missing            fare_amount or total_amount null
--   amount_negative           fare_amount < 0 or total_amount < 0 (refunds and disputes)
--   amount_over_10000         any amount column above $10,000 in absolute value (or NaN)
-- Not reasons to reject (the row is kept):
--   vendor, payment type and rate code: null or unlisted → the unknown member -1
--   passenger_count: null, fractional or outside 0..9 → null (it is typed by the driver)
--   store_and_fwd_flag: 'Y' → true, 'N' → false, anything else → null
-- Money is numeric(10,2) (rounded to cents), distance numeric(9,2), duration whole seconds.
-- Sums "as numeric" below are sums of total_amount rounded to cents.

BEGIN;

-- One build at a time: there is one staging table (atl-mart also holds this lock, per
-- session, while it fills the staging table).
SELECT pg_advisory_xact_lock(4281421);

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
    IF EXISTS (SELECT 1 FROM mart.staging_trip s, build_params p WHERE s.source_month <> p.month_start) THEN
        RAISE EXCEPTION 'mart.staging_trip holds rows of another month than %', current_setting('atl.month');
    END IF;
END $$;

-- Calendar: the month, one day either side (dropoffs cross midnight of the last day).
SELECT mart.ensure_calendar((month_start - interval '1 day')::date, month_end::date) FROM build_params;

-- Zones from the staged taxi_zone_lookup.csv, then any of 1..265 still missing as
-- 'Unknown zone N' (atl-mart warns when the lake has no zone table).
INSERT INTO mart.dim_borough (name)
SELECT DISTINCT coalesce(nullif(trim(borough), ''), 'Unknown') FROM mart.staging_zone
UNION SELECT 'Unknown'
ON CONFLICT (name) DO NOTHING;
INSERT INTO mart.dim_service_zone (name)
SELECT DISTINCT coalesce(nullif(trim(service_zone), ''), 'N/A') FROM mart.staging_zone
UNION SELECT 'N/A'
ON CONFLICT (name) DO NOTHING;
INSERT INTO mart.dim_zone (zone_id, name, borough_id, service_zone_id)
SELECT DISTINCT ON (z.locationid) z.locationid, coalesce(nullif(trim(z.zone), ''), 'Unknown zone ' || z.locationid),
       b.borough_id, sz.service_zone_id
FROM mart.staging_zone z
JOIN mart.dim_borough b ON b.name = coalesce(nullif(trim(z.borough), ''), 'Unknown')
JOIN mart.dim_service_zone sz ON sz.name = coalesce(nullif(trim(z.service_zone), ''), 'N/A')
WHERE z.locationid BETWEEN 1 AND 265
ORDER BY z.locationid
ON CONFLICT (zone_id) DO UPDATE
    SET name = EXCLUDED.name, borough_id = EXCLUDED.borough_id, service_zone_id = EXCLUDED.service_zone_id
    WHERE (mart.dim_zone.name, mart.dim_zone.borough_id, mart.dim_zone.service_zone_id)
          IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.borough_id, EXCLUDED.service_zone_id);
INSERT INTO mart.dim_zone (zone_id, name, borough_id, service_zone_id)
SELECT id, 'Unknown zone ' || id,
       (SELECT borough_id FROM mart.dim_borough WHERE name = 'Unknown'),
       (SELECT service_zone_id FROM mart.dim_service_zone WHERE name = 'N/A')
FROM generate_series(1, 265) id
ON CONFLICT (zone_id) DO NOTHING;

-- The rules, as one CASE: the first failing rule is the row's reason; null means clean.
CREATE TEMP VIEW classified_trip AS
SELECT s.*,
       CASE
           WHEN s.pickup_at IS NULL OR s.dropoff_at IS NULL THEN 'timestamp_missing'
           WHEN s.pickup_at < p.month_start OR s.pickup_at >= p.month_end THEN 'pickup_outside_month'
           WHEN s.dropoff_at <= s.pickup_at THEN 'dropoff_not_after_pickup'
           WHEN s.dropoff_at > s.pickup_at + interval '24 hours' THEN 'trip_over_24h'
           WHEN s.pulocationid IS NULL OR s.dolocationid IS NULL
                OR s.pulocationid NOT BETWEEN 1 AND 265 OR s.dolocationid NOT BETWEEN 1 AND 265
               THEN 'zone_unknown'
           WHEN s.trip_distance IS NULL OR s.trip_distance <= 0 THEN 'distance_not_positive'
           WHEN s.trip_distance > 500 THEN 'distance_over_500mi'
           WHEN s.fare_amount IS NULL OR s.total_amount IS NULL THEN 'amount_missing'
           WHEN s.fare_amount < 0 OR s.total_amount < 0 THEN 'amount_negative'
           -- float8 NaN compares greater than every number, so NaN lands here too.
           WHEN greatest(abs(s.fare_amount), abs(s.extra), abs(s.mta_tax), abs(s.tip_amount),
                         abs(s.tolls_amount), abs(s.improvement_surcharge), abs(s.total_amount),
                         abs(s.congestion_surcharge), abs(s.airport_fee), abs(s.cbd_congestion_fee),
                         abs(s.ehail_fee)) > 10000
               THEN 'amount_over_10000'
       END AS reason
FROM mart.staging_trip s CROSS JOIN build_params p;

SELECT mart.create_build_table(service, month_start::date) FROM build_params;

INSERT INTO mart.fact_trip_build (
    service_id, pickup_at, dropoff_at, pickup_date_id, pickup_hour, pu_zone_id, do_zone_id,
    vendor_id, payment_type_id, rate_code_id, passenger_count, store_and_fwd, trip_type,
    duration_sec, trip_distance, fare_amount, extra, mta_tax, tip_amount, tolls_amount,
    improvement_surcharge, congestion_surcharge, airport_fee, cbd_congestion_fee, ehail_fee,
    total_amount, source_month, source_row)
SELECT p.service_id, c.pickup_at, c.dropoff_at,
       (extract(year FROM c.pickup_at) * 10000 + extract(month FROM c.pickup_at) * 100
        + extract(day FROM c.pickup_at))::int,
       extract(hour FROM c.pickup_at)::smallint,
       c.pulocationid::int, c.dolocationid::int,
       coalesce(v.vendor_id, -1), coalesce(pt.payment_type_id, -1), coalesce(rc.rate_code_id, -1),
       CASE WHEN c.passenger_count IN (0, 1, 2, 3, 4, 5, 6, 7, 8, 9) THEN c.passenger_count::smallint END,
       CASE c.store_and_fwd_flag WHEN 'Y' THEN true WHEN 'N' THEN false END,
       CASE WHEN c.trip_type IN (1, 2) THEN c.trip_type::smallint END,
       round(extract(epoch FROM c.dropoff_at - c.pickup_at))::int,
       round(c.trip_distance::numeric, 2), round(c.fare_amount::numeric, 2),
       round(c.extra::numeric, 2), round(c.mta_tax::numeric, 2), round(c.tip_amount::numeric, 2),
       round(c.tolls_amount::numeric, 2), round(c.improvement_surcharge::numeric, 2),
       round(c.congestion_surcharge::numeric, 2), round(c.airport_fee::numeric, 2),
       round(c.cbd_congestion_fee::numeric, 2), round(c.ehail_fee::numeric, 2),
       round(c.total_amount::numeric, 2), c.source_month, c.source_row
FROM classified_trip c
CROSS JOIN build_params p
LEFT JOIN mart.dim_vendor v ON v.vendor_id = c.vendorid
LEFT JOIN mart.dim_payment_type pt ON pt.payment_type_id = c.payment_type
LEFT JOIN mart.dim_rate_code rc ON rc.rate_code_id = c.ratecodeid
WHERE c.reason IS NULL;

-- Old partition out, new one in, in this transaction.
SELECT mart.swap_month_partition(service, month_start::date) FROM build_params;

CREATE TEMP TABLE rejected_trip ON COMMIT DROP AS
SELECT * FROM classified_trip WHERE reason IS NOT NULL;

DELETE FROM mart.rejects r USING build_params p WHERE r.service_id = p.service_id AND r.month_id = p.month_id;
INSERT INTO mart.rejects (service_id, month_id, reason, rows, total_amount_sum)
SELECT p.service_id, p.month_id, r.reason, count(*), coalesce(sum(round(r.total_amount::numeric, 2)), 0)
FROM rejected_trip r CROSS JOIN build_params p
GROUP BY p.service_id, p.month_id, r.reason;

DELETE FROM mart.reject_samples r USING build_params p WHERE r.service_id = p.service_id AND r.month_id = p.month_id;
INSERT INTO mart.reject_samples (service_id, month_id, reason, source_row, row_data)
SELECT p.service_id, p.month_id, r.reason, r.source_row, to_jsonb(r) - 'reason' - 'n'
FROM (SELECT *, row_number() OVER (PARTITION BY reason ORDER BY source_row) AS n FROM rejected_trip) r
CROSS JOIN build_params p
WHERE r.n <= 10;

-- The month's aggregates, from its new partition.
CREATE TEMP VIEW month_fact AS
SELECT f.*, p.month_id,
       (f.pu_zone_id IN (1, 132, 138) OR f.do_zone_id IN (1, 132, 138) OR f.rate_code_id IN (2, 3)) AS is_airport
FROM mart.fact_trip f JOIN build_params p
  ON f.service_id = p.service_id AND f.pickup_at >= p.month_start AND f.pickup_at < p.month_end;

DELETE FROM mart.agg_daily a USING build_params p
WHERE a.service_id = p.service_id AND a.date_id / 100 = p.month_id;
INSERT INTO mart.agg_daily (service_id, date_id, trips, revenue, fare_sum, card_trips, card_fare_sum,
                            card_tip_sum, duration_sec_sum, distance_sum, airport_trips)
SELECT service_id, pickup_date_id, count(*), sum(total_amount), sum(fare_amount),
       count(*) FILTER (WHERE payment_type_id = 1),
       coalesce(sum(fare_amount) FILTER (WHERE payment_type_id = 1), 0),
       coalesce(sum(tip_amount) FILTER (WHERE payment_type_id = 1), 0),
       sum(duration_sec), sum(trip_distance), count(*) FILTER (WHERE is_airport)
FROM month_fact GROUP BY service_id, pickup_date_id;

DELETE FROM mart.agg_hour_weekday a USING build_params p
WHERE a.service_id = p.service_id AND a.month_id = p.month_id;
INSERT INTO mart.agg_hour_weekday (service_id, month_id, weekday, hour, trips)
SELECT f.service_id, f.month_id, d.weekday, f.pickup_hour, count(*)
FROM month_fact f JOIN mart.dim_date d ON d.date_id = f.pickup_date_id
GROUP BY f.service_id, f.month_id, d.weekday, f.pickup_hour;

DELETE FROM mart.agg_zone_month a USING build_params p
WHERE a.service_id = p.service_id AND a.month_id = p.month_id;
INSERT INTO mart.agg_zone_month (service_id, month_id, pu_zone_id, trips, revenue, card_fare_sum, card_tip_sum)
SELECT service_id, month_id, pu_zone_id, count(*), sum(total_amount),
       coalesce(sum(fare_amount) FILTER (WHERE payment_type_id = 1), 0),
       coalesce(sum(tip_amount) FILTER (WHERE payment_type_id = 1), 0)
FROM month_fact GROUP BY service_id, month_id, pu_zone_id;

DELETE FROM mart.agg_payment_month a USING build_params p
WHERE a.service_id = p.service_id AND a.month_id = p.month_id;
INSERT INTO mart.agg_payment_month (service_id, month_id, payment_type_id, trips, revenue)
SELECT service_id, month_id, payment_type_id, count(*), sum(total_amount)
FROM month_fact GROUP BY service_id, month_id, payment_type_id;

DELETE FROM mart.agg_fare_distance a USING build_params p
WHERE a.service_id = p.service_id AND a.month_id = p.month_id;
INSERT INTO mart.agg_fare_distance (service_id, month_id, distance_bin, trips, fare_sum)
SELECT service_id, month_id, least(floor(trip_distance * 2) / 2, 30), count(*), sum(fare_amount)
FROM month_fact GROUP BY 1, 2, 3;

-- The accounting: staged = fact + rejected, in rows and in money; the build_log CHECKs
-- make a mismatch abort the whole transaction.
DELETE FROM mart.build_log b USING build_params p WHERE b.service_id = p.service_id AND b.month_id = p.month_id;
INSERT INTO mart.build_log (service_id, month_id, warehouse_rows, fact_rows, rejected_rows,
                            warehouse_total, fact_total, rejected_total, built_at, seconds, rows_per_sec)
SELECT p.service_id, p.month_id, w.rows, f.rows, r.rows, w.total, f.total, r.total, now(), sec,
       w.rows / greatest(sec, 1e-6)
FROM build_params p,
     (SELECT count(*) AS rows, coalesce(sum(round(total_amount::numeric, 2)), 0) AS total FROM mart.staging_trip) w,
     (SELECT count(*) AS rows, coalesce(sum(total_amount), 0) AS total FROM month_fact) f,
     (SELECT coalesce(sum(rows), 0) AS rows, coalesce(sum(total_amount_sum), 0) AS total
      FROM mart.rejects r2 WHERE (r2.service_id, r2.month_id) = (SELECT service_id, month_id FROM build_params)) r,
     -- atl-mart sets atl.started_at before it copies the month, so its time counts the transfer.
     LATERAL (SELECT extract(epoch FROM clock_timestamp()
                     - coalesce(nullif(current_setting('atl.started_at', true), '')::timestamptz, p.started_at))::float8 AS sec) t;

DROP VIEW month_fact;
DROP VIEW classified_trip;
COMMIT;
