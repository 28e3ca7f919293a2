-- Whether this mart has the reference tables of migrations 0003 and 0011 (a mart an older
-- release built and no atl-mart of this release has migrated has not): the map and the TLC
-- comparison are left out rather than fail the page.
SELECT to_regclass('mart.ref_zone_shape') IS NOT NULL AND to_regclass('mart.agg_month_recorded') IS NOT NULL
       AND to_regclass('mart.ref_licence_class_part') IS NOT NULL
