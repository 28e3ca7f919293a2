//! Real TLC files kept in the repository (`crates/testdata/real`, see its PROVENANCE.md),
//! for the tests that must meet the TLC's own bytes. A test names them here, so a clone
//! with nothing beside it has every file a test reads.

use std::path::PathBuf;

/// The first 100 rows of the TLC's high-volume FHV month 2022-01 (Uber 78, Lyft 22).
pub const FHVHV_2022_01_HEAD100: &str = "fhvhv_tripdata_2022-01_head100.parquet";
/// The CDN's `misc/taxi_zone_lookup.csv`.
pub const ZONE_TABLE: &str = "taxi_zone_lookup.csv";
/// The CDN's `misc/taxi_zones.zip`, the zone shapefile.
pub const ZONE_SHAPES: &str = "taxi_zones.zip";
/// The TLC's monthly indicators, release of 2024-01.
pub const INDICATORS: &str = "data_reports_monthly.csv";

/// Every file of the folder, as PROVENANCE.md lists them.
pub const ALL: [&str; 4] = [FHVHV_2022_01_HEAD100, ZONE_TABLE, ZONE_SHAPES, INDICATORS];

/// The folder holding them.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("real")
}

/// The path of one of them, e.g. `real::path(real::INDICATORS)`.
pub fn path(name: &str) -> PathBuf {
    dir().join(name)
}
