//! `atl-viz`: render the dashboard to a folder, or serve it live.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use atl_core::{AtlConfig, ErrorChain, Kinds, MonthRange, Secret};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "atl-viz",
    version,
    about = "KPIs, charts and the HTML dashboard over the ATL-Datamart mart; the EDA report over the warehouse"
)]
struct Cli {
    /// Configuration file (default: ./atl.toml when present, or $ATL_CONFIG).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Mart URL, overriding mart.url (postgres://user:password@host:port/db).
    #[arg(long, global = true, visible_alias = "mart", env = "ATL_VIZ_MART_URL", hide_env_values = true)]
    mart_url: Option<String>,
    /// Warehouse URL, overriding warehouse.url (for `eda`).
    #[arg(
        long,
        global = true,
        visible_alias = "warehouse",
        env = "ATL_VIZ_WAREHOUSE_URL",
        hide_env_values = true
    )]
    warehouse_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write the self-contained dashboard: index.html, and each chart as charts/<chart>.svg
    /// and as a PNG export, charts/<chart>.png (rendered at 2x with an embedded font, so it
    /// looks the same on every machine).
    Dashboard {
        /// Months shown, e.g. 2023-01..2023-08 (default: every month in the mart).
        #[arg(long, value_parser = atl_viz::filter::parse_period)]
        period: Option<MonthRange>,
        /// Services shown, by their mart.dim_service name (green, yellow, uber...); repeat the
        /// flag or separate with commas (default: every service).
        #[arg(long)]
        service: Vec<String>,
        /// A pickup borough (mart.dim_borough name, e.g. Queens) for the zone panels.
        #[arg(long)]
        borough: Option<String>,
        /// Output folder (default: <viz.out_dir>/dashboard).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write the exploratory report over the warehouse's raw table (index.html): per column
    /// and month the null rate, min/max, quantiles and a histogram, and the anomalies.
    Eda {
        /// Trip kind: yellow, green, fhv, fhvhv, or all (each kind's report in its own
        /// folder under --out) (default: source.kind).
        #[arg(long)]
        kind: Option<Kinds>,
        /// Months profiled, e.g. 2023-01..2023-08 (default: every month in the warehouse).
        #[arg(long)]
        months: Option<MonthRange>,
        /// Output folder (default: <viz.out_dir>/eda).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Months with more rows get quantiles and histograms from a page sample of about this
        /// many rows; 0 reads every row.
        #[arg(long, default_value_t = atl_viz::eda::DEFAULT_SAMPLE_ROWS)]
        sample_rows: i64,
    },
    /// Serve the live dashboard, querying the mart on every request; filtered by the query
    /// string (`/?service=green&period=2024-01..2024-03&borough=Queens`). SIGTERM or Ctrl-C
    /// stops it after the requests in flight.
    Serve {
        /// Listen address (default: viz.addr).
        #[arg(long)]
        addr: Option<String>,
    },
    /// Create (or update) the login role the live dashboard should connect as: SELECT on
    /// schema mart only. Run it with the mart owner's URL.
    GrantReadonly {
        #[arg(long, default_value = atl_viz::role::DEFAULT_ROLE)]
        role: String,
        /// A file holding the role's password (its first line). Without it, the password is
        /// read from ATL_VIZ_PASSWORD; never from a flag, which `ps` would show.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "atl_viz=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("atl-viz: {}", ErrorChain::new(e.as_ref()).with_render(atl_core::pg::render_cause));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = AtlConfig::load(cli.config.as_deref())?;
    if let Some(url) = cli.mart_url {
        config.mart.url = Secret::new(url);
    }
    if let Some(url) = cli.warehouse_url {
        config.warehouse.url = Secret::new(url);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Dashboard { period, service, borough, out } => {
                let out = out.unwrap_or_else(|| config.viz.out_dir.join("dashboard"));
                let mut filter = atl_viz::Filter { period, borough, ..Default::default() };
                for list in &service {
                    filter.add_services(list);
                }
                let written = atl_viz::write_dashboard(&config.mart, &filter, &out)
                    .await
                    .with_context(|| format!("rendering the dashboard into {}", out.display()))?;
                let d = &written.dashboard;
                eprintln!(
                    "dashboard {} rendered in {} ms (queries {} ms, drawing {} ms); {} PNG exports in {} ms",
                    d.period,
                    (d.query_time + d.render_time).as_millis(),
                    d.query_time.as_millis(),
                    d.render_time.as_millis(),
                    written.pngs.len(),
                    written.png_time.as_millis()
                );
                println!("{}", written.index.display());
            }
            Command::Eda { kind, months, out, sample_rows } => {
                let kinds: Kinds = match kind {
                    Some(kinds) => kinds,
                    None => config.source.kind.parse().context("source.kind")?,
                };
                let out = out.unwrap_or_else(|| config.viz.out_dir.join("eda"));
                for kind in kinds.kinds() {
                    let out = if kinds == Kinds::All { out.join(kind.as_str()) } else { out.clone() };
                    let request = atl_viz::EdaRequest { kind, months, sample_rows: sample_rows.max(0) };
                    let written = atl_viz::write_eda(&config.warehouse, &request, &out)
                        .await
                        .with_context(|| format!("writing the {kind} EDA report into {}", out.display()))?;
                    let r = &written.report;
                    eprintln!(
                        "EDA of {} {} ({} months) in {} ms (queries {} ms, drawing {} ms)",
                        r.eda.table,
                        r.eda.period,
                        r.eda.months.len(),
                        (r.eda.query_time + r.render_time).as_millis(),
                        r.eda.query_time.as_millis(),
                        r.render_time.as_millis()
                    );
                    println!("{}", written.index.display());
                }
            }
            Command::Serve { addr } => {
                let addr = addr.unwrap_or_else(|| config.viz.addr.clone());
                let server = atl_viz::LiveServer::bind(&config.mart, &addr).await?;
                eprintln!(
                    "serving the live dashboard of {} on http://{}/",
                    config.mart.url,
                    server.local_addr()?
                );
                server.run(shutdown_signal()).await?;
                eprintln!("atl-viz serve stopped");
            }
            Command::GrantReadonly { role, password_file } => {
                let password = role_password(password_file.as_deref())?;
                atl_viz::grant_readonly(&config.mart, &role, &password).await?;
                eprintln!(
                    "role {role} can now read schema mart of {}; serve with ATL__MART__URL=postgres://{role}:<password>@<host>:<port>/<db>",
                    config.mart.url
                );
            }
        }
        Ok(())
    })
}

/// Completes on SIGTERM (service managers, `docker stop`) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the server");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// The read-only role's password: the first line of `file`, else ATL_VIZ_PASSWORD.
fn role_password(file: Option<&std::path::Path>) -> anyhow::Result<Secret> {
    let password = match file {
        Some(file) => std::fs::read_to_string(file)
            .with_context(|| format!("reading the password file {}", file.display()))?
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned(),
        None => std::env::var("ATL_VIZ_PASSWORD").unwrap_or_default(),
    };
    anyhow::ensure!(!password.is_empty(), "no password: set ATL_VIZ_PASSWORD or pass --password-file FILE");
    Ok(Secret::new(password))
}
