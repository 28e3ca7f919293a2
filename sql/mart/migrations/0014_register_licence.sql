-- A licence the mart does not list yet becomes a service named by its code (kind fhvhv), in
-- one place for both paths: insertion_for_hire.sql registers the month's new licences with
-- it, and atl-mart's stream, meeting a new licence's first row, registers it in the month's
-- transaction and goes on streaming (crates/mart/src/stream.rs). Before, the stream left a
-- new licence's rows to the SQL, which then summed every roll-up over the whole month: a
-- generated 20 M-row month (its 0.04 % of HV0099) built at the slow path on a fresh mart.
-- Returns the service that holds the licence (whatever its kind), or NULL when the mart
-- gives it none: a service already has the code as its name (a licence coded 'uber',
-- 'fhvhv', 'yellow'), or the insert conflicts otherwise. The licence's rows then go to the
-- kind's own service, as before.
CREATE OR REPLACE FUNCTION mart.register_licence(code text)
RETURNS smallint LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO mart.dim_service (name, kind, licence) VALUES (code, 'fhvhv', code) ON CONFLICT DO NOTHING;
    RETURN (SELECT s.service_id FROM mart.dim_service s WHERE s.licence = code);
END
$$;
