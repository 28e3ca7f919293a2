//! The one error type of the crate: every variant names the binary, port, folder or
//! log it concerns, so a failed test says what to fix without a rerun.

use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

/// What went wrong while finding, starting, using or stopping a service.
///
/// `Debug` shows the same text as `Display`, so a test's `.unwrap()` or `.expect()`
/// prints what to install or which log to read, not a struct dump.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No folder with PostgreSQL's server binaries (`initdb`, `pg_ctl`, `postgres`).
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) not found; looked in: {searched}. \
         Install the `postgresql` package (Debian/Ubuntu: `apt-get install postgresql`) \
         or set ATL_PG_BINDIR to the folder that holds initdb"
    )]
    PgNotFound {
        /// The places that were tried, in order.
        searched: String,
    },

    /// No `moto_server` executable (the S3 server used by tests).
    #[error(
        "moto_server (the S3 server used by tests) not found; looked in: {searched}. \
         Run `cargo xtask test` (which installs it into .tools/venv) or \
         `pip install 'moto[server]'`, or set ATL_MOTO_SERVER to the executable"
    )]
    MotoNotFound {
        /// The places that were tried, in order.
        searched: String,
    },

    /// A program could not be started at all.
    #[error("could not run {}: {source}", program.display())]
    Spawn {
        /// The executable.
        program: PathBuf,
        /// Why the OS refused.
        source: io::Error,
    },

    /// A program ran and failed.
    #[error("`{command}` failed ({status}): {stderr}")]
    Command {
        /// The command line, for copy-paste.
        command: String,
        /// Its exit status.
        status: ExitStatus,
        /// What it wrote on stderr (and stdout, when stderr was empty).
        stderr: String,
    },

    /// A server was started but did not come up (or exited) on its port.
    #[error(
        "{service} on 127.0.0.1:{port} did not start: {reason}; last lines of {}:\n{log_tail}",
        log.display()
    )]
    NotReady {
        /// `postgres` or `moto_server`.
        service: &'static str,
        /// The port it was asked to listen on.
        port: u16,
        /// What was observed (timeout, exit status, failed pg_ctl).
        reason: String,
        /// The server's log file.
        log: PathBuf,
        /// The end of that log.
        log_tail: String,
    },

    /// A persistent cluster already runs, on another port than the one asked for.
    #[error(
        "the PostgreSQL cluster in {} already runs on port {running}, not {wanted}; \
         stop it first (`cargo xtask down` for the servers of `cargo xtask up`)",
        data_dir.display()
    )]
    PortMismatch {
        /// The cluster's data folder.
        data_dir: PathBuf,
        /// The port it listens on.
        running: u16,
        /// The port the caller asked for.
        wanted: u16,
    },

    /// Running as root, the server user cannot reach a cluster's data folder.
    #[error(
        "user {user} cannot write to {}: make its parent folders traversable \
         (chmod o+x) or put the cluster elsewhere",
        path.display()
    )]
    NotAccessible {
        /// The data folder.
        path: PathBuf,
        /// The OS user the server runs as.
        user: &'static str,
    },

    /// A file-system operation failed.
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        /// What was being done (`create`, `read`, `write`...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },

    /// No TCP listener could be opened on 127.0.0.1.
    #[error("could not listen on 127.0.0.1: {0}")]
    Listen(#[source] io::Error),
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How long a server gets to answer after its start.
pub(crate) const START_TIMEOUT: Duration = Duration::from_secs(30);
