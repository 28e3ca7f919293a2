//! The command line of `cargo xtask`.

use clap::{Args, Parser, Subcommand};

/// Development tasks of the ATL-Datamart workspace, as plain Rust.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version, about, long_about = None)]
pub struct Xtask {
    #[command(subcommand)]
    pub task: Task,
}

#[derive(Debug, Subcommand)]
pub enum Task {
    /// Start the local PostgreSQL servers: warehouse (127.0.0.1:15432) and mart
    /// (127.0.0.1:15435), with role `atl` (password `atl`) owning databases `warehouse`
    /// and `mart`.
    ///
    /// The clusters live in `.atl/pg/{warehouse,mart}` and are created on first use
    /// (PostgreSQL's server binaries are needed: package `postgresql`). Running `up`
    /// again is harmless.
    Up(Ports),
    /// Stop the local PostgreSQL servers started by `up` (their data is kept).
    Down,
    /// Show whether each local PostgreSQL server runs, with its port, data folder and URL.
    Status,
    /// Run the workspace's tests (`cargo test --workspace`), after installing the test
    /// tools they need (moto's S3 server, into `.tools/venv`) when missing.
    ///
    /// Arguments after `--` go to `cargo test` (with `-p`, only those packages run), e.g.
    /// `cargo xtask test -- -p atl-lake -- --nocapture`.
    Test(TestArgs),
}

#[derive(Debug, Args)]
pub struct Ports {
    /// Port of the warehouse server.
    #[arg(long, default_value_t = 15432)]
    pub warehouse_port: u16,
    /// Port of the mart server.
    #[arg(long, default_value_t = 15435)]
    pub mart_port: u16,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Extra arguments for `cargo test`.
    #[arg(last = true)]
    pub cargo_args: Vec<String>,
}
