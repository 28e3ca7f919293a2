//! Throwaway local services for development and tests, without Docker: PostgreSQL
//! clusters run with `initdb`/`pg_ctl` ([`PgServer`], [`PgCluster`]), an S3 endpoint
//! ([`S3Server`], moto's standalone server) and a TLC CDN look-alike with fault
//! injection ([`TlcMirror`]); and where the tools the tests need are ([`PgInstall`],
//! [`find_chromium`]), and what else the machine does while a benchmark runs
//! ([`load_average`], [`CpuTimes`]: a virtual machine's steal).
//!
//! Used by `cargo xtask up` and, as a dev-dependency, by every crate's integration
//! tests. Each service picks a free port on 127.0.0.1 and goes away on drop; a missing
//! binary is an [`Error`] that says what to install.
//!
//! ```no_run
//! use atl_devservices::PgServer;
//!
//! let pg = PgServer::temp()?; // fresh cluster, stopped and deleted on drop
//! pg.create_database("warehouse")?;
//! assert_eq!(pg.psql("warehouse", "SELECT count(*) FROM pg_class WHERE false")?, "0");
//! let url = pg.url("warehouse"); // hand to sqlx
//! # Ok::<(), atl_devservices::Error>(())
//! ```

mod browser;
mod error;
mod machine;
mod mirror;
mod pg_install;
mod postgres;
mod process;
mod s3;
mod stage;
mod timed;

pub use browser::{CHROMIUM_ENV, CHROMIUM_NAMES, find_chromium};
pub use error::{Error, Result};
pub use machine::{CpuTimes, load_average, steal_since};
pub use mirror::{ACCESS_DENIED_XML, Fault, TlcMirror};
pub use pg_install::{BINDIR_ENV, PgInstall};
pub use postgres::{PgCluster, PgServer, PgStatus, StartOutcome};
pub use s3::{MOTO_SERVER_ENV, S3Server, find_moto_server};
pub use stage::{output_text, without_atl_env};
pub use timed::{TimedRun, median, run_timed};
