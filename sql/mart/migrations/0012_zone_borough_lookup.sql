-- The zones' boroughs as one array, for the roll-ups of a month's build. Calling
-- mart.pickup_borough(zone) for every fact row costs about 13 µs a row (a SQL function with
-- sub-selects is not inlined: 40 s for each roll-up of a 3 M-row month); the roll-ups read
-- this array once per statement, as an init plan, and index it by zone (217 ms for 1 M rows,
-- measured on PostgreSQL 15). crates/mart/src/cleaning/rollup.rs writes the expression:
--   coalesce((SELECT mart.zone_boroughs())[zone + 1], (SELECT mart.pickup_borough(NULL)))
-- so that a NULL zone, or one mart.dim_zone lacks, is the Unknown borough, as before.
CREATE FUNCTION mart.zone_boroughs()
RETURNS int[] LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(z.borough_id ORDER BY s.id), '{}')
    FROM generate_series(0, (SELECT max(zone_id) FROM mart.dim_zone)) AS s(id)
    LEFT JOIN mart.dim_zone z ON z.zone_id = s.id
$$;
