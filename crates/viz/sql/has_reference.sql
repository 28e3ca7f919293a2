-- Whether this mart has the reference tables of migration 0003 (a mart built by an older
-- release has not): the map and the TLC comparison are left out rather than fail the page.
SELECT to_regclass('mart.ref_zone_shape') IS NOT NULL AND to_regclass('mart.agg_month_recorded') IS NOT NULL
