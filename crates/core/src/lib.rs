//! The shared vocabulary of the ATL-Datamart pipeline.
//!
//! Every stage (ingest → lake → warehouse → mart → viz) speaks of TLC trip files the same
//! way, and this crate is where that way is written down once:
//!
//! - [`YearMonth`] and [`MonthRange`]: the months the TLC publishes, parsed from `2023-01`
//!   and `2023-01..2023-08`;
//! - [`TripKind`] and [`TripFile`]: a kind and month, with its source URL and lake key;
//! - [`AtlConfig`]: `atl.toml` defaults, `ATL__SECTION__KEY` overrides, secrets redacted;
//! - [`schema`]: the canonical Arrow schema of each kind and [`SchemaMapping`], which maps
//!   any published era's physical schema onto it;
//! - [`raw`]: where each kind lives in the warehouse ([`RawTable`]: table names, lineage,
//!   COPY column lists, a month's DDL), derived from [`schema`].
//! - [`PickupTally`]: which month a file's rows belong to, by their pickup times;
//! - [`money`]: the mart's rounding rule in cents, and a month's passenger totals per licence
//!   counted by it (by the loader as it reads a file, by atl-mart as it reads the warehouse);
//! - [`pg`] (feature `postgres`): connecting, migrating, error rendering and advisory lock
//!   keys, shared by every stage that talks to a server.
//!
//! ```
//! use atl_core::{TripFile, TripKind, MonthRange};
//!
//! let months: MonthRange = "2023-01..2023-03".parse()?;
//! let keys: Vec<String> = months.iter().map(|m| TripFile::new(TripKind::Yellow, m).lake_key()).collect();
//! assert_eq!(keys[0], "yellow/2023/yellow_tripdata_2023-01.parquet");
//! # Ok::<(), atl_core::ParseError>(())
//! ```

pub mod chain;
pub mod config;
pub mod error;
pub mod kind;
pub mod money;
pub mod month;
#[cfg(feature = "postgres")]
pub mod pg;
pub mod pickups;
pub mod raw;
pub mod schema;

pub use chain::ErrorChain;
pub use config::{AtlConfig, DatabaseConfig, LakeConfig, Secret, SourceConfig, VizConfig};
pub use error::{ConfigError, ParseError, SchemaError};
pub use kind::{
    INDICATORS_LAKE_KEY, Kinds, TripFile, TripKind, ZONE_SHAPES_LAKE_KEY, ZONE_SHAPES_SOURCE_PATH,
    ZONES_LAKE_KEY, ZONES_SOURCE_PATH,
};
pub use month::{MonthRange, YearMonth};
pub use pickups::{PickupTally, WrongMonth};
pub use raw::RawTable;
pub use schema::{SchemaMapping, canonical_schema};
