//! The TLC's reference files as the lake holds them, read into plain values: the zone
//! shapefile (`reference/taxi_zones.zip`, [`shapes`]) and the monthly indicators
//! (`reference/data_reports_monthly.csv`, [`indicators`]). `atl-ingest` reads them to verify
//! a download before it enters the lake; `atl-mart` reads them to load its reference tables.

pub mod indicators;
pub mod shapes;

pub use indicators::{Indicator, read_indicators};
pub use shapes::{MapFrame, ZoneShape, read_zone_shapes};

/// A reference file that is not what it should be; `reason` says what was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {reason}")]
pub struct ReferenceError {
    /// `the zone shapefile` or `the indicators CSV`.
    pub what: &'static str,
    pub reason: String,
}
