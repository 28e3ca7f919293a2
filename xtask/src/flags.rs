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
    /// Run the whole pipeline on the embedded default: ingest (zones and months into the
    /// local lake folder `data/lake`), load the warehouse, build the mart, and render the
    /// dashboard (`reports/dashboard/index.html`). Starts the local servers
    /// when they are not running and builds the stage binaries (release) first.
    ///
    /// Source, lake and servers come from `atl.toml` and `ATL__*` variables, e.g.
    /// `ATL__SOURCE__BASE_URL=http://127.0.0.1:8000 cargo xtask pipeline --months 2023-01..2023-02`.
    /// A second run finds everything done and does nothing.
    Pipeline(PipelineArgs),
    /// Run the benchmarks (all, or one: ingest, warehouse, mart, viz, year). Each generates its
    /// data and prints its figures next to the references measured in the same run: the
    /// warehouse load next to DuckDB's postgres extension and the server's own binary COPY
    /// (at wal_level replica and minimal), the mart build of a yellow and a high-volume month with
    /// where its time goes, the servers' own COPYs and DuckDB moving the same raw rows, and `year`
    /// the whole pipeline on 12 generated months served by a local TLC mirror.
    Bench(BenchArgs),
    /// Bring the warehouse's and the mart's schemas to this checkout's newest migrations
    /// (`atl-warehouse migrate`, then `atl-mart migrate`), with the servers of the current
    /// folder's configuration. Every stage does this at start; this is for upgrading ahead.
    Migrate {
        /// Use debug builds of the stages.
        #[arg(long)]
        debug: bool,
    },
    /// Check the Airflow DAG with the real Apache Airflow 3 (installed into .tools/airflow
    /// from compose/airflow/requirements.txt): it imports, runs monthly in the right task
    /// order, and `airflow dags test` loads a generated month into a throwaway mart.
    Airflow(AirflowArgs),
    /// Check the stages against real TLC files: lay every file of a CDN-shaped folder into a
    /// temp lake, load it into a throwaway PostgreSQL server and audit every column against
    /// the Parquet. CI runs it on `../shared/data/tlc`.
    Conformance {
        /// Folder with `trip-data/` (and optionally `samples/<kind>_<YYYY-MM>_head/`).
        folder: std::path::PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// Folder for the local state: the servers' data (`.atl/pg`), the lake (`data/lake`)
    /// and the reports (default: the workspace root).
    #[arg(long)]
    pub root: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub ports: Ports,
    /// Use debug builds of the stages: the workspace's test build (`cargo test --workspace
    /// --no-run`), shared with the tests; quicker to build, slower on big months.
    #[arg(long)]
    pub debug: bool,
    /// Trip kind: yellow, green, fhv, fhvhv, or all (each stage runs every kind in turn).
    #[arg(long, default_value = "yellow")]
    pub kind: String,
    /// Months, e.g. 2023-01..2023-08 (default: source.months of the configuration).
    #[arg(long, conflicts_with = "latest")]
    pub months: Option<String>,
    /// Fetch only the newest month the source has published.
    #[arg(long)]
    pub latest: bool,
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

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// ingest, warehouse, mart, viz, year, or scale (one month of --kind at --rows, default
    /// fhvhv at 20,000,000, through every stage beside a 3 M-row yellow month: seconds and
    /// peak RSS per binary) (default: every stage, not year or scale).
    pub stage: Option<String>,
    /// The kind `scale` runs (default fhvhv).
    #[arg(long)]
    pub kind: Option<String>,
    /// Rows of each generated month (default: 3,000,000).
    #[arg(long)]
    pub rows: Option<usize>,
    /// Alternated rounds; medians are reported (default: 3).
    #[arg(long)]
    pub rounds: Option<usize>,
}

#[derive(Debug, Args)]
pub struct AirflowArgs {
    /// Run the DAG on the CeleryExecutor instead: Redis (Debian's redis-server, installed
    /// when missing), the scheduler, the API server, the DAG processor and Celery workers as
    /// processes; backfill six generated months of yellow and fhvhv with one worker, then
    /// with two (timed), check every month reached the mart once with the builds one at a
    /// time, and SIGKILL a worker in the middle of a load to check its task is retried and
    /// the month loaded once.
    #[arg(long)]
    pub celery: bool,
}
