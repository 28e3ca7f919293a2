//! The PostgreSQL plumbing every stage that talks to a server shares (feature `postgres`):
//!
//! - [`connect`]: one connection with the project's settings, or a reader's options
//!   ([`read_only_options`]), the error naming the server and its URL;
//! - [`migrate`]: the migration runner of both servers ([`MigratedSchema`]);
//! - [`error`]: a server's error in its own words ([`render_cause`], for
//!   [`crate::ErrorChain::with_render`]), a failed migration in an operator's, and which
//!   errors are the connection failing;
//! - [`lock`]: every advisory lock key, in one list.
//!
//! The month ids the mart keys its tables by are [`crate::YearMonth::id`] and
//! [`crate::YearMonth::from_id`], which need no driver.

pub mod connect;
pub mod error;
pub mod lock;
pub mod migrate;

pub use connect::{ConnectError, connect, connect_options, connect_with, read_only_options};
pub use error::{is_connection_error, migrate_cause, render_cause};
pub use migrate::{MigratedSchema, MigrationError, MigrationReport, Superseded};
