-- The taxi month's new partition made before its rows arrive (insertion.sql step 0), so that
-- atl-mart can stream the clean rows straight into it (crates/mart/src/cleaning) and
-- insertion.sql by hand can insert them: either way the rows are checked as they are written,
-- with no validating scan afterwards, and the month is written once.
--
-- mart.fact_trip_build: the fact's columns and NOT NULLs (LIKE), then its CHECKs and the
-- partition bounds (mart.constrain_build_table, migration 0001, on an empty table: no scan).
-- Made and filled in one transaction, a COPY into it may use FREEZE and, at wal_level
-- minimal, write no WAL.
CREATE OR REPLACE FUNCTION mart.new_build_table(service text, month date)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DROP TABLE IF EXISTS mart.fact_trip_build;
    CREATE TABLE mart.fact_trip_build (LIKE mart.fact_trip);
    PERFORM mart.constrain_build_table(service, month);
END
$$;
