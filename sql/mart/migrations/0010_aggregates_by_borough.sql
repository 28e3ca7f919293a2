-- Every aggregate the dashboard's tiles and panels read, per pickup borough: a reader's
-- borough filter then shows that borough's own figures, and the city is the sum of its
-- boroughs. agg_zone_month is per pickup zone already. agg_daily also gets the congestion
-- pricing of 2025-01-05 on: the trips charged cbd_congestion_fee (above 0) and its total.
--
-- The built months are summed again from the fact tables, as the builds sum them (the
-- roll-ups of insertion.sql and insertion_for_hire.sql, then their aggregate statements),
-- a fact row's borough looked up by a join with mart.dim_zone (mart.pickup_borough's rule;
-- a call of the function costs ~13 µs, five calls a row: ~200 s for a 3 M-row month):
-- a test (crates/mart/tests/upgrade_for_hire.rs) checks that a migrated mart holds the very
-- aggregates a build of the same months writes. On a large mart this reads every fact row
-- once (README's Upgrading says so).

-- A zone's borough for the aggregates: a trip with no pickup zone (other FHV rows may have
-- none) or one mart.dim_zone lacks is the Unknown borough. atl-mart's stream looks the same
-- up from mart.dim_zone (crates/mart/src/cleaning/rollup.rs, ZoneBoroughs).
INSERT INTO mart.dim_borough (name) VALUES ('Unknown') ON CONFLICT (name) DO NOTHING;
CREATE FUNCTION mart.pickup_borough(zone int)
RETURNS int LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT borough_id FROM mart.dim_zone WHERE zone_id = zone),
                    (SELECT borough_id FROM mart.dim_borough WHERE name = 'Unknown'))
$$;

TRUNCATE mart.agg_daily, mart.agg_hour_weekday, mart.agg_payment_month, mart.agg_fare_distance,
         mart.agg_for_hire_month, mart.agg_wait_hour;

ALTER TABLE mart.agg_daily
    ADD COLUMN pu_borough_id int NOT NULL REFERENCES mart.dim_borough,
    ADD COLUMN cbd_trips bigint NOT NULL,
    ADD COLUMN cbd_fee_sum numeric NOT NULL,
    DROP CONSTRAINT agg_daily_pkey,
    ADD PRIMARY KEY (service_id, date_id, pu_borough_id);
ALTER TABLE mart.agg_hour_weekday
    ADD COLUMN pu_borough_id int NOT NULL REFERENCES mart.dim_borough,
    DROP CONSTRAINT agg_hour_weekday_pkey,
    ADD PRIMARY KEY (service_id, month_id, pu_borough_id, weekday, hour);
ALTER TABLE mart.agg_payment_month
    ADD COLUMN pu_borough_id int NOT NULL REFERENCES mart.dim_borough,
    DROP CONSTRAINT agg_payment_month_pkey,
    ADD PRIMARY KEY (service_id, month_id, pu_borough_id, payment_type_id);
ALTER TABLE mart.agg_fare_distance
    ADD COLUMN pu_borough_id int NOT NULL REFERENCES mart.dim_borough,
    DROP CONSTRAINT agg_fare_distance_pkey,
    ADD PRIMARY KEY (service_id, month_id, pu_borough_id, distance_bin);
ALTER TABLE mart.agg_for_hire_month
    ADD COLUMN pu_borough_id int NOT NULL REFERENCES mart.dim_borough,
    DROP CONSTRAINT agg_for_hire_month_pkey,
    ADD PRIMARY KEY (service_id, month_id, pu_borough_id);
ALTER TABLE mart.agg_wait_hour
    ADD COLUMN pu_borough_id int NOT NULL REFERENCES mart.dim_borough,
    DROP CONSTRAINT agg_wait_hour_pkey,
    ADD PRIMARY KEY (service_id, month_id, pu_borough_id, hour, wait_bin);

-- ------------------------------------------------------------------ the taxis' months
CREATE TEMP TABLE rollup_day_hour_payment AS
SELECT service_id, to_char(source_month, 'YYYYMM')::int AS month_id, pickup_date_id, pickup_hour,
       payment_type_id, coalesce(z.borough_id, u.borough_id) AS pu_borough_id,
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
FROM mart.fact_trip f
LEFT JOIN mart.dim_zone z ON z.zone_id = f.pu_zone_id
CROSS JOIN (SELECT borough_id FROM mart.dim_borough WHERE name = 'Unknown') u
GROUP BY 1, 2, 3, 4, 5, 6;

CREATE TEMP TABLE rollup_distance AS
SELECT service_id, to_char(source_month, 'YYYYMM')::int AS month_id,
       least(trip_distance_hundredths / 50 * 50, 3000) * 0.01 AS trip_distance,
       coalesce(z.borough_id, u.borough_id) AS pu_borough_id,
       count(*) AS trips,
       sum(fare_amount_cents) * 0.01 AS fare_sum
FROM mart.fact_trip f
LEFT JOIN mart.dim_zone z ON z.zone_id = f.pu_zone_id
CROSS JOIN (SELECT borough_id FROM mart.dim_borough WHERE name = 'Unknown') u
GROUP BY 1, 2, 3, 4;

INSERT INTO mart.agg_daily (service_id, date_id, pu_borough_id, trips, revenue, fare_sum, card_trips,
                            card_fare_sum, card_tip_sum, duration_sec_sum, distance_sum, airport_trips,
                            cbd_trips, cbd_fee_sum)
SELECT r.service_id, r.pickup_date_id, r.pu_borough_id, sum(r.trips), sum(r.revenue), sum(r.fare_sum),
       coalesce(sum(r.trips) FILTER (WHERE r.payment_type_id = 1), 0),
       coalesce(sum(r.fare_sum) FILTER (WHERE r.payment_type_id = 1), 0),
       coalesce(sum(r.tip_sum) FILTER (WHERE r.payment_type_id = 1), 0),
       sum(r.duration_sec_sum), sum(r.distance_sum), sum(r.airport_trips),
       sum(r.cbd_trips), coalesce(sum(r.cbd_fee_sum), 0)
FROM rollup_day_hour_payment r
GROUP BY r.service_id, r.month_id, r.pickup_date_id, r.pu_borough_id;

INSERT INTO mart.agg_hour_weekday (service_id, month_id, pu_borough_id, weekday, hour, trips)
SELECT r.service_id, r.month_id, r.pu_borough_id, d.weekday, r.pickup_hour, sum(r.trips)
FROM rollup_day_hour_payment r JOIN mart.dim_date d ON d.date_id = r.pickup_date_id
GROUP BY r.service_id, r.month_id, r.pu_borough_id, d.weekday, r.pickup_hour;

INSERT INTO mart.agg_payment_month (service_id, month_id, pu_borough_id, payment_type_id, trips, revenue)
SELECT r.service_id, r.month_id, r.pu_borough_id, r.payment_type_id, sum(r.trips), sum(r.revenue)
FROM rollup_day_hour_payment r
GROUP BY r.service_id, r.month_id, r.pu_borough_id, r.payment_type_id;

INSERT INTO mart.agg_fare_distance (service_id, month_id, pu_borough_id, distance_bin, trips, fare_sum)
SELECT r.service_id, r.month_id, r.pu_borough_id, least(floor(r.trip_distance * 2) / 2, 30), sum(r.trips),
       sum(r.fare_sum)
FROM rollup_distance r
GROUP BY 1, 2, 3, 4;

DROP TABLE rollup_day_hour_payment, rollup_distance;

-- ------------------------------------------------------------------ the for-hire months
CREATE TEMP TABLE rollup_day_hour AS
SELECT service_id, to_char(source_month, 'YYYYMM')::int AS month_id, pickup_date_id, pickup_hour,
       coalesce(z.borough_id, u.borough_id) AS pu_borough_id,
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
FROM mart.fact_for_hire_trip f
LEFT JOIN mart.dim_zone z ON z.zone_id = f.pu_zone_id
CROSS JOIN (SELECT borough_id FROM mart.dim_borough WHERE name = 'Unknown') u
GROUP BY 1, 2, 3, 4, 5;

CREATE TEMP TABLE rollup_miles AS
SELECT service_id, to_char(source_month, 'YYYYMM')::int AS month_id,
       least(trip_miles_hundredths / 50 * 50, 3000) * 0.01 AS trip_miles,
       coalesce(z.borough_id, u.borough_id) AS pu_borough_id,
       count(*) AS trips,
       sum(base_passenger_fare_cents) * 0.01 AS fare_sum
FROM mart.fact_for_hire_trip f
LEFT JOIN mart.dim_zone z ON z.zone_id = f.pu_zone_id
CROSS JOIN (SELECT borough_id FROM mart.dim_borough WHERE name = 'Unknown') u
WHERE trip_miles_hundredths IS NOT NULL
GROUP BY 1, 2, 3, 4;

INSERT INTO mart.agg_daily (service_id, date_id, pu_borough_id, trips, revenue, fare_sum, card_trips,
                            card_fare_sum, card_tip_sum, duration_sec_sum, distance_sum, airport_trips,
                            cbd_trips, cbd_fee_sum)
SELECT service_id, pickup_date_id, pu_borough_id, sum(trips), sum(total_sum), coalesce(sum(fare_sum), 0), 0, 0, 0,
       sum(duration_sec_sum), coalesce(sum(miles_sum), 0), sum(airport_trips), sum(cbd_trips),
       coalesce(sum(cbd_fee_sum), 0)
FROM rollup_day_hour
GROUP BY service_id, month_id, pickup_date_id, pu_borough_id;

INSERT INTO mart.agg_hour_weekday (service_id, month_id, pu_borough_id, weekday, hour, trips)
SELECT r.service_id, r.month_id, r.pu_borough_id, d.weekday, r.pickup_hour, sum(r.trips)
FROM rollup_day_hour r JOIN mart.dim_date d ON d.date_id = r.pickup_date_id
GROUP BY r.service_id, r.month_id, r.pu_borough_id, d.weekday, r.pickup_hour;

INSERT INTO mart.agg_fare_distance (service_id, month_id, pu_borough_id, distance_bin, trips, fare_sum)
SELECT r.service_id, r.month_id, r.pu_borough_id, least(floor(r.trip_miles * 2) / 2, 30), sum(r.trips),
       coalesce(sum(r.fare_sum), 0)
FROM rollup_miles r
GROUP BY 1, 2, 3, 4;

INSERT INTO mart.agg_for_hire_month (service_id, month_id, pu_borough_id, trips, passenger_total_sum,
                                     base_fare_sum, driver_pay_sum, tips_sum, miles_sum, trip_time_sec_sum,
                                     wait_trips, wait_sec_sum, shared_request_trips, shared_match_trips,
                                     wav_request_trips, wav_match_trips, access_a_ride_trips)
SELECT r.service_id, r.month_id, r.pu_borough_id, sum(trips), sum(total_sum), sum(fare_sum), sum(driver_pay_sum),
       sum(tips_sum), sum(miles_sum), sum(trip_time_sec_sum), sum(wait_trips), sum(wait_sec_sum),
       sum(shared_request_trips), sum(shared_match_trips), sum(wav_request_trips), sum(wav_match_trips),
       sum(access_a_ride_trips)
FROM rollup_day_hour r
GROUP BY r.service_id, r.month_id, r.pu_borough_id;

INSERT INTO mart.agg_wait_hour (service_id, month_id, pu_borough_id, hour, wait_bin, trips)
SELECT service_id, to_char(source_month, 'YYYYMM')::int, coalesce(z.borough_id, u.borough_id), pickup_hour,
       least(wait_sec / 30 * 30, 3600), count(*)
FROM mart.fact_for_hire_trip f
LEFT JOIN mart.dim_zone z ON z.zone_id = f.pu_zone_id
CROSS JOIN (SELECT borough_id FROM mart.dim_borough WHERE name = 'Unknown') u
WHERE wait_sec IS NOT NULL
GROUP BY 1, 2, 3, 4, 5;

DROP TABLE rollup_day_hour, rollup_miles;
