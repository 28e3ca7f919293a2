#![allow(clippy::print_stdout, clippy::print_stderr)]
//! `atl-lake`: look after the data lake (create it, list it, check it, remove objects).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use atl_core::{AtlConfig, ErrorChain, Kinds, MonthRange, TripKind};
use atl_lake::{InitOutcome, Lake, Removal};
use clap::{Parser, Subcommand};

/// Look after the ATL-Datamart data lake: TLC trip months and the zone table, in a local
/// folder (`file://...`) or an S3 bucket (`s3://bucket`).
///
/// The lake comes from `lake.url` in the configuration (atl.toml, then ATL__LAKE__URL and the
/// other ATL__LAKE__* variables), or from --lake.
#[derive(Debug, Parser)]
#[command(name = "atl-lake", version)]
struct Cli {
    /// Configuration file (default: ./atl.toml when present, else the built-in defaults).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Lake URL, overriding lake.url: file://<folder> or s3://<bucket>.
    #[arg(long, global = true, value_name = "URL")]
    lake: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the lake: the folder, or the S3 bucket when it is missing (an existing bucket is fine).
    Init,
    /// List the trip files (kind, month, size, rows from the Parquet footer, last modified),
    /// then the reference objects (the zone table).
    Ls {
        /// Only this kind's trip files: yellow, green, fhv, fhvhv (all: every kind).
        #[arg(long)]
        kind: Option<Kinds>,
    },
    /// Read every Parquet footer and check that its columns map onto its kind's schema (and
    /// that the zone table looks like one). Names each corrupt object; exits with 1 if any.
    Verify {
        /// Only this kind's trip files (all: every kind).
        #[arg(long)]
        kind: Option<Kinds>,
    },
    /// Remove objects: by key (`yellow/2023/yellow_tripdata_2023-01.parquet`), or a kind's
    /// months with --kind and --months.
    Rm {
        /// Object keys to remove.
        #[arg(required_unless_present = "months", conflicts_with = "months")]
        keys: Vec<String>,
        /// The kind whose months --months removes (all: every kind's).
        #[arg(long, requires = "months")]
        kind: Option<Kinds>,
        /// Months to remove, e.g. 2023-01..2023-03 or 2023-05.
        #[arg(long, requires = "kind")]
        months: Option<MonthRange>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("atl-lake: {}", ErrorChain::new(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut config = AtlConfig::load(cli.config.as_deref()).context("loading the configuration")?;
    if let Some(url) = cli.lake {
        config.lake.url = url;
    }
    // Only `init` may create a missing folder: elsewhere a mistyped path is an error, not an
    // empty lake.
    // The lake's errors name the folder or bucket.
    let lake = match cli.command {
        Command::Init => Lake::create(&config.lake),
        _ => Lake::open(&config.lake),
    }?;
    match cli.command {
        Command::Init => {
            let outcome = lake.init().await.with_context(|| format!("initialising {}", lake.describe()))?;
            match outcome {
                InitOutcome::Created => println!("created {}", lake.describe()),
                InitOutcome::AlreadyPresent => println!("{} is ready (it already existed)", lake.describe()),
            }
        }
        Command::Ls { kind } => {
            let entries =
                lake.catalog(one_kind(kind)).await.with_context(|| format!("listing {}", lake.describe()))?;
            println!(
                "{:<10} {:<8} {:>10} {:>10}  {:<20}  key",
                "kind", "month", "size", "rows", "last modified"
            );
            for entry in &entries {
                let (kind, month) = match entry.trip_file {
                    Some(f) => (f.kind.to_string(), f.month.to_string()),
                    None => ("reference".to_owned(), "-".to_owned()),
                };
                let rows = match &entry.footer {
                    Some(Ok(footer)) => footer.rows.to_string(),
                    Some(Err(_)) => "corrupt".to_owned(),
                    None => "-".to_owned(),
                };
                println!(
                    "{kind:<10} {month:<8} {:>10} {rows:>10}  {:<20}  {}",
                    human_size(entry.meta.size),
                    entry.meta.last_modified.format("%Y-%m-%d %H:%M:%SZ"),
                    entry.meta.location,
                );
            }
            if entries.is_empty() {
                println!("(no objects in {})", lake.describe());
            }
        }
        Command::Verify { kind } => {
            let checks =
                lake.verify(one_kind(kind)).await.with_context(|| format!("listing {}", lake.describe()))?;
            let mut corrupt = 0;
            for check in &checks {
                match &check.result {
                    Ok(rows) => println!("ok       {} ({rows} rows, {})", check.key, human_size(check.size)),
                    Err(e) => {
                        corrupt += 1;
                        println!("CORRUPT  {}: {}", check.key, ErrorChain::new(e).one_line());
                    }
                }
            }
            println!("{} object(s) checked in {}, {corrupt} corrupt", checks.len(), lake.describe());
            if corrupt > 0 {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Rm { keys, kind, months } => {
            let removals = match (kind, months) {
                (Some(kinds), Some(months)) => {
                    let mut removals = Vec::new();
                    for kind in kinds.kinds() {
                        removals.extend(
                            lake.remove_months(kind, months).await.with_context(|| {
                                format!("removing {kind} {months} from {}", lake.describe())
                            })?,
                        );
                    }
                    removals
                }
                _ => {
                    lake.remove(&keys).await.with_context(|| format!("removing from {}", lake.describe()))?
                }
            };
            for removal in removals {
                match removal {
                    Removal::Removed { key, size } => println!("removed  {key} ({})", human_size(size)),
                    Removal::Absent { key } => println!("absent   {key} (nothing to remove)"),
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `--kind`: one kind, or `None` for every kind (also when not given).
fn one_kind(kinds: Option<Kinds>) -> Option<TripKind> {
    match kinds {
        Some(Kinds::One(kind)) => Some(kind),
        Some(Kinds::All) | None => None,
    }
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}
