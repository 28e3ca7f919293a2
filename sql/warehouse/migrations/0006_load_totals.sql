-- What each load counted as it read the file: per licence, the rows and the sum of their
-- passenger totals in cents, every money value rounded by the mart's rule (atl_core::money,
-- mart.round_cents). atl-mart reads them as the warehouse month's figures when the rows it
-- streams add up to the same, instead of counting the month again on this server (on a
-- 20 M-row high-volume month that count was 13.3 CPU-s beside the stream). A month with no
-- rows here (loaded before this version, or holding a value beyond the rule's integer
-- shortcut) is counted by atl-mart on this server, as before.
--
-- Written in the load's transaction, with its raw.load_log row: a month's figures are
-- always those of the rows the load committed. NULLS NOT DISTINCT: one row for the rows
-- without licence too.
CREATE TABLE IF NOT EXISTS raw.load_totals (
    kind             text    NOT NULL,
    month            date    NOT NULL,
    licence          text,
    rows             bigint  NOT NULL CHECK (rows > 0),
    passenger_cents  numeric NOT NULL,
    FOREIGN KEY (kind, month) REFERENCES raw.load_log (kind, month) ON DELETE CASCADE,
    UNIQUE NULLS NOT DISTINCT (kind, month, licence)
);

-- Whole cents only: anything else would stop a build instead of being counted again.
ALTER TABLE raw.load_totals DROP CONSTRAINT IF EXISTS load_totals_whole_cents;
ALTER TABLE raw.load_totals ADD CONSTRAINT load_totals_whole_cents
    CHECK (passenger_cents = trunc(passenger_cents) AND passenger_cents <> 'NaN');

-- Roles that may read the load log (a mart's read-only role, README.md) may read this too:
-- atl-mart reads both. Without it, a build by such a role would fail after this migration.
DO $$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT DISTINCT a.grantee
        FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.oid = 'raw.load_log'::regclass AND a.privilege_type = 'SELECT' AND a.grantee <> c.relowner
    LOOP
        IF g.grantee = 0 THEN
            GRANT SELECT ON raw.load_totals TO PUBLIC;
        ELSE
            EXECUTE format('GRANT SELECT ON raw.load_totals TO %s', g.grantee::regrole);
        END IF;
    END LOOP;
END
$$;
