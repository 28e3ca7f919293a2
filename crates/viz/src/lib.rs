//! The viz stage of ATL-Datamart: KPIs, charts and an HTML dashboard over the mart.
//!
//! Data flows one way: the mart's aggregate tables (`mart.agg_daily`,
//! `mart.agg_hour_weekday`, `mart.agg_zone_month`, `mart.agg_payment_month`,
//! `mart.agg_fare_distance`, `mart.rejects`, `mart.build_log` and the `dim_*` names) are read
//! by [`Mart::aggregates`] into [`Aggregates`] (one query per panel, never the fact table),
//! turned into [`Kpi`] tiles and plotters SVG [`Chart`]s, and laid out by [`page`] into one
//! self-contained HTML page (inline CSS and SVG, no script, no network).
//! [`write_dashboard`] writes it to a folder, with a PNG export of each chart ([`png`]:
//! resvg, 2×, an embedded font); [`LiveServer`] serves it, re-querying the mart
//! on every request so a new month appears on the next load, best as the read-only role
//! that [`grant_readonly`] creates (every connection is read-only in any case).
//!
//! [`eda`] is the exploratory report over the warehouse's raw tables (plain SQL, read-only),
//! written as another self-contained page by [`write_eda`].
//!
//! The modules are layers, each importing only from those below it (`tests/layers.rs` holds
//! the table and checks every `crate::` path against it):
//!
//! | layer | modules | what |
//! | --- | --- | --- |
//! | 0 | [`numbers`], [`filter`], [`palette`], [`html`] | formats, the reader's filter, colours, the page shell |
//! | 1 | [`error`] | what can go wrong |
//! | 2 | [`model`] | the figures as named structs: no SQL, no drawing |
//! | 3 | [`query`], [`chart`], [`role`] | the mart and warehouse read into the model; the model drawn; the read-only role |
//! | 4 | [`page`], [`png`] | the pages laid out; the charts rasterised |
//! | 5 | [`dashboard`], [`eda`] | the jobs: read, draw, lay out, write |
//! | 6 | [`serve`] | the live server |
//!
//! ```no_run
//! # async fn run() -> Result<(), atl_viz::VizError> {
//! let config = atl_core::AtlConfig::load(None).expect("config");
//! let filter = atl_viz::Filter::from_query(Some("service=green&period=2023-01..2023-08"))?;
//! let written = atl_viz::write_dashboard(&config.mart, &filter, "reports/dashboard".as_ref()).await?;
//! println!("{}", written.index.display());
//! # Ok(()) }
//! ```

pub mod chart;
pub mod dashboard;
pub mod eda;
pub mod error;
pub mod filter;
pub mod html;
pub mod model;
pub mod numbers;
pub mod page;
pub mod palette;
pub mod png;
pub mod query;
pub mod role;
pub mod serve;

pub use chart::Chart;
pub use dashboard::{Dashboard, WrittenDashboard, render, render_aggregates, write_dashboard};
pub use eda::{EdaRequest, write_eda};
pub use error::VizError;
pub use filter::Filter;
pub use html::PageMode;
pub use model::{Aggregates, ForHire, Kpi, Service, Totals};
pub use query::Mart;
pub use role::grant_readonly;
pub use serve::LiveServer;
