-- Every trip of the high-volume files is in the TLC's "FHV - High Volume", whichever
-- licence dispatched it: the report counts the class, not the four companies the mart names.
-- A row without a licence goes to the kind's own service, 'fhvhv', and a licence the mart
-- does not know yet to a service named for it (insertion_for_hire.sql), so a service's class
-- is looked up by its name, then by its kind (crates/viz/sql/tlc_comparison.sql); this row
-- gives the kind's.
INSERT INTO mart.ref_licence_class VALUES ('fhvhv', 'FHV - High Volume') ON CONFLICT DO NOTHING;
