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
