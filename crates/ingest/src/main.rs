#![allow(clippy::print_stdout, clippy::print_stderr)]
//! `atl-ingest`: fetch TLC months and the zone table into the data lake.

mod terminal;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use atl_core::{AtlConfig, ErrorChain, Kinds, MonthRange, SourceConfig, TripKind, YearMonth};
use atl_ingest::{IngestReport, LATEST_PROBE_MONTHS, MonthCheck, Outcome, Progress, ReferenceFile, Refresh};
use atl_lake::{InitOutcome, Lake};
use clap::Parser;
use indicatif::MultiProgress;

use crate::terminal::{Bars, LogLines};

/// Fetch NYC TLC trip months (and the taxi zone table) into the ATL-Datamart data lake.
///
/// Each file is checked before it enters the lake (Parquet magic bytes, footer, a schema of
/// the right kind; the zone table must be the CSV, not an error page) and committed
/// atomically. Months already in the lake with the source's size and ETag are not
/// downloaded again; a month the TLC republishes (a new ETag, even at the same size) is.
/// 403/404 answers mean "not published yet" and are not retried; timeouts, resets,
/// truncated bodies and 5xx are retried with exponential backoff.
///
/// Without --months, --latest or --zones, the months and kind come from the configuration
/// (source.months, source.kind). --zones alone fetches only the zone table and shapes,
/// --indicators only the TLC's monthly indicators; combine them with --months or --latest
/// to fetch those too.
///
/// The zone shapes and the TLC's indicators are optional: when their refresh fails (the
/// TLC's site down, an HTML page instead of the file), the lake keeps its last good copy,
/// one line says what was not refreshed and why, and the months are fetched all the same.
/// The zone table is required only when the lake has no copy of it.
///
/// Exit status: 0 when every month was fetched, already present, or not published yet (the
/// summary lists the unpublished ones: the TLC publishes with a lag, so that is not an
/// error); 1 when any month failed, when --latest found no published month, when the lake
/// has no zone table and it could not be fetched, when reference files alone were asked
/// for and none could be refreshed, when the run could not start (configuration, lake), or
/// when none of a range that ended more than four months ago is published for a kind (a
/// wrong source address, most likely; the other kinds are still fetched); 3 with
/// --require-published when a requested month is not published yet.
#[derive(Debug, Parser)]
#[command(name = "atl-ingest", version, verbatim_doc_comment)]
struct Cli {
    /// Trip kind: yellow, green, fhv, fhvhv, or all four in turn (default: source.kind).
    /// With all, each kind fetches the part of the months it was published for (fhv from
    /// 2015-01, fhvhv from 2019-02).
    #[arg(long)]
    kind: Option<Kinds>,

    /// Months to fetch, e.g. 2023-01..2023-08 or 2023-05 (default: source.months).
    #[arg(long, conflicts_with = "latest")]
    months: Option<MonthRange>,

    /// Fetch the newest published month, found by probing backwards from the current month
    /// (one HEAD per month, at most 24 months).
    #[arg(long)]
    latest: bool,

    /// Fetch misc/taxi_zone_lookup.csv and misc/taxi_zones.zip (the zone shapes) into
    /// reference/taxi_zone_lookup.csv and reference/taxi_zones.zip.
    #[arg(long)]
    zones: bool,

    /// Fetch the TLC's monthly indicators (source.indicators_url) into
    /// reference/data_reports_monthly.csv.
    #[arg(long)]
    indicators: bool,

    /// Configuration file (default: ./atl.toml when present, else the built-in defaults).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Source base URL, overriding source.base_url (the TLC CDN or a mirror with its layout).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,

    /// Lake URL, overriding lake.url: file://<folder> or s3://<bucket>.
    #[arg(long, value_name = "URL")]
    lake: Option<String>,

    /// Exit with status 3 when a requested month is not published yet, so a scheduler
    /// (the Airflow DAG) retries later instead of counting the run as done.
    #[arg(long)]
    require_published: bool,

    /// Take a file even when most of its pickups fall outside its month (by default it is
    /// refused, naming the month its rows belong to: the wrong file for the month).
    #[arg(long)]
    allow_other_month: bool,

    /// Months downloaded at once, overriding source.concurrency.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: Option<u16>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let bars = std::io::stderr().is_terminal().then(MultiProgress::new);
    // Under progress bars only warnings are logged, so the bars stay readable.
    let default_filter = if bars.is_some() { "warn" } else { "info" };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default_filter.into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli, bars).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("atl-ingest: {}", ErrorChain::new(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli, bars: Option<MultiProgress>) -> anyhow::Result<ExitCode> {
    let mut config = AtlConfig::load(cli.config.as_deref()).context("loading the configuration")?;
    if let Some(url) = cli.base_url {
        config.source.base_url = url;
    }
    if let Some(url) = cli.lake {
        config.lake.url = url;
    }
    if let Some(n) = cli.concurrency {
        config.source.concurrency = usize::from(n);
    }
    let source = &config.source;
    let kinds = match cli.kind {
        Some(kinds) => kinds,
        None => source.kind.parse().context("source.kind in the configuration")?,
    };
    // The one command besides `atl-lake init` that creates a missing lake folder: the first
    // download fills a new lake.
    let lake = Lake::create(&config.lake).with_context(|| format!("opening the lake {}", config.lake.url))?;
    if lake.init().await.with_context(|| format!("initialising {}", lake.describe()))? == InitOutcome::Created
    {
        println!("created the lake {}", lake.describe());
    }

    let progress: Box<dyn Progress> = match bars {
        Some(bars) => Box::new(Bars::new(bars)),
        None => Box::new(LogLines::default()),
    };
    let months = if cli.latest {
        None
    } else if let Some(months) = cli.months {
        Some(months)
    } else if !cli.zones && !cli.indicators {
        Some(source.months.parse().context("source.months in the configuration")?)
    } else {
        None
    };
    let only_reference = !cli.latest && months.is_none();

    let mut files = Vec::new();
    if cli.zones {
        files.extend([ReferenceFile::Zones, ReferenceFile::ZoneShapes]);
    }
    if cli.indicators {
        files.push(ReferenceFile::Indicators);
    }
    let mut refreshes = Vec::new();
    for file in files {
        let refresh = atl_ingest::refresh_reference(file, source, &lake, progress.as_ref())
            .await
            .with_context(|| format!("refreshing {} in {}", file.lake_key(), lake.describe()))?;
        println!("{}", describe_refresh(&refresh));
        refreshes.push(refresh);
    }
    // The trips never wait for a reference file: only a zone table the lake has no copy of
    // fails the run, or a run that asked for reference files alone and got none of them.
    let mut failed = refreshes.iter().any(Refresh::blocks)
        || (only_reference && !refreshes.is_empty() && refreshes.iter().all(|r| r.outcome.is_failure()));
    if only_reference {
        return Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS });
    }
    let check = if cli.allow_other_month { MonthCheck::Allow } else { MonthCheck::Refuse };
    let mut retry_later = false;
    for kind in kinds.kinds() {
        let months = match months {
            Some(range) => match kind.published_part(range) {
                Some(part) => Some(part),
                None => {
                    println!("{kind}: published from {}, so none of {range} exists", kind.first_month());
                    // Asked for this kind alone, nothing can be done: not a success.
                    failed |= kinds == Kinds::One(kind);
                    continue;
                }
            },
            None => None,
        };
        match ingest_kind(source, &lake, kind, months, check, progress.as_ref()).await? {
            KindOutcome::Done => {}
            KindOutcome::Failed => failed = true,
            // Another kind may still be at the source: every kind is tried and reported.
            KindOutcome::WrongSource => failed = true,
            KindOutcome::NotPublishedYet => retry_later = true,
        }
    }
    if cli.require_published && retry_later && !failed {
        println!("--require-published: a month is not published yet (exit 3: try again later)");
        return Ok(ExitCode::from(3));
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// How one kind's fetch ended.
enum KindOutcome {
    Done,
    Failed,
    /// None of a range that ended long ago is published: the source address is wrong.
    WrongSource,
    /// A requested month is not published yet (for --require-published).
    NotPublishedYet,
}

/// Fetches `months` of `kind` (`None`: the newest published month).
async fn ingest_kind(
    source: &SourceConfig,
    lake: &Lake,
    kind: TripKind,
    months: Option<MonthRange>,
    check: MonthCheck,
    progress: &dyn Progress,
) -> anyhow::Result<KindOutcome> {
    let months = match months {
        Some(months) => months,
        None => match atl_ingest::find_latest(source, kind).await.context("probing for the latest month")? {
            Some(month) => MonthRange::single(month),
            None => {
                println!(
                    "no {kind} month is published at {} in the {LATEST_PROBE_MONTHS} months up to now",
                    source.base_url
                );
                return Ok(KindOutcome::Failed);
            }
        },
    };
    let report = atl_ingest::ingest_months_checked(source, lake, kind, months, check, progress).await?;
    print_report(&report, lake);
    // The TLC publishes with a lag of about two months: a source that has none of a range
    // ending long ago is more likely the wrong address than a late publication.
    let long_ago = YearMonth::current().prev().prev().prev().prev();
    if report.not_published() == report.months.len() && months.last() < long_ago {
        println!(
            "none of {kind} {months} is at {}, though the TLC publishes within about two months: \
             is source.base_url right?",
            source.base_url
        );
        return Ok(KindOutcome::WrongSource);
    }
    Ok(if report.has_failures() {
        KindOutcome::Failed
    } else if report.not_published() > 0 {
        KindOutcome::NotPublishedYet
    } else {
        KindOutcome::Done
    })
}

fn print_report(report: &IngestReport, lake: &Lake) {
    for month in &report.months {
        println!("{:<16} {}", month.file.to_string(), describe(&month.outcome, "rows"));
    }
    println!(
        "{} {}: {} fetched, {} already present, {} not published, {} failed (lake: {})",
        report.kind,
        match (report.months.first(), report.months.last()) {
            (Some(a), Some(b)) if a.file.month != b.file.month =>
                format!("{}..{}", a.file.month, b.file.month),
            (Some(a), _) => a.file.month.to_string(),
            _ => String::new(),
        },
        report.fetched(),
        report.already_present(),
        report.not_published(),
        report.failed(),
        lake.describe(),
    );
    if report.not_published() > 0 {
        let months: Vec<String> = report
            .months
            .iter()
            .filter(|m| matches!(m.outcome, Outcome::NotPublished { .. }))
            .map(|m| m.file.month.to_string())
            .collect();
        println!("not published yet by the TLC (not an error): {}", months.join(", "));
    }
}

/// One line per reference file; a failed refresh says why and what the lake keeps.
fn describe_refresh(refresh: &Refresh) -> String {
    let label = refresh.file.label();
    let Outcome::Failed { reason } = &refresh.outcome else {
        let unit = match refresh.file {
            ReferenceFile::Zones => "zones",
            ReferenceFile::ZoneShapes => "shapes",
            ReferenceFile::Indicators => "rows",
        };
        return format!("{label:<16} {}", describe(&refresh.outcome, unit));
    };
    let kept = match refresh.lake_copy {
        Some(at) => format!("the lake keeps its copy of {}", at.format("%Y-%m-%d %H:%M UTC")),
        None => format!("the lake has no copy: {}", refresh.file.missing_means()),
    };
    let status = if refresh.blocks() { "FAILED" } else { "NOT REFRESHED" };
    format!("{label:<16} {status:<16} {}; {kept}", ErrorChain::new(reason).one_line())
}

pub(crate) fn describe(outcome: &Outcome, rows: &str) -> String {
    match outcome {
        Outcome::Fetched { bytes, rows: n } => format!("fetched          {}, {n} {rows}", human_size(*bytes)),
        Outcome::AlreadyPresent { bytes } => format!("already present  {}", human_size(*bytes)),
        Outcome::NotPublished { status } => format!("not published    (HTTP {status})"),
        Outcome::Failed { reason } => format!("FAILED           {}", ErrorChain::new(reason).one_line()),
    }
}

pub(crate) fn human_size(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
