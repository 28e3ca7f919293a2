//! `cargo xtask bench [STAGE] [--rows N] [--rounds R]`: each stage's benchmark, which
//! generates its own TLC-shaped data and prints its figures next to the references measured
//! in the same run (see each crate's `benches/`), and `year`: the whole pipeline on 12
//! generated months served by a local TLC mirror.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use atl_devservices::{CpuTimes, TlcMirror, load_average, steal_since};

use crate::flags::{BenchArgs, PipelineArgs, Ports};
use crate::{pipeline, services, stages, workspace_root};

/// (stage, package, bench target)
const BENCHES: [(&str, &str, &str); 4] = [
    ("ingest", "atl-ingest", "download"),
    ("warehouse", "atl-warehouse", "load"),
    ("mart", "atl-mart", "build"),
    ("viz", "atl-viz", "render"),
];

/// The months of `bench year`.
const YEAR: &str = "2024-01..2024-12";

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let stage = args.stage.as_deref();
    if stage == Some("year") {
        return year(args);
    }
    if stage == Some("scale") {
        return crate::scale::run(args);
    }
    let chosen: Vec<_> = BENCHES.iter().filter(|(s, _, _)| stage.is_none_or(|w| w == *s)).collect();
    if chosen.is_empty() {
        let known: Vec<&str> = BENCHES.iter().map(|(s, _, _)| *s).chain(["year", "scale"]).collect();
        bail!("no benchmark for `{}`; known: {}", stage.unwrap_or_default(), known.join(", "));
    }
    for (stage, package, bench) in chosen {
        println!("==> bench {stage}");
        let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cargo.current_dir(workspace_root()).args(["bench", "-p", package, "--bench", bench]);
        if let Some(rows) = args.rows {
            cargo.env("ATL_BENCH_ROWS", rows.to_string());
        }
        if let Some(rounds) = args.rounds {
            cargo.env("ATL_BENCH_ROUNDS", rounds.to_string());
        }
        if *stage == "warehouse" || *stage == "mart" {
            cargo.env("ATL_BENCH_PYTHON", bench_python()?);
        }
        let status = cargo.status().context("running cargo bench")?;
        if !status.success() {
            bail!("the {stage} benchmark failed ({status})");
        }
    }
    Ok(())
}

/// The Python of `.tools/bench-venv`, with DuckDB and its postgres extension
/// (xtask/requirements-bench.txt) installed on first use.
fn bench_python() -> anyhow::Result<PathBuf> {
    let root = workspace_root();
    let venv = root.join(".tools/bench-venv");
    let python = venv.join("bin/python");
    let ready = python.is_file()
        && Command::new(&python)
            .args(["-c", "import duckdb, duckdb_extension_postgres"])
            .status()
            .is_ok_and(|s| s.success());
    if !ready {
        crate::test::install_requirements(&venv, &root.join("xtask/requirements-bench.txt"))?;
    }
    Ok(python)
}

/// `cargo xtask pipeline` on a year of generated months from a local mirror, into fresh
/// servers and a fresh lake: the time a user waits, stage by stage.
fn year(args: &BenchArgs) -> anyhow::Result<()> {
    let rows = args.rows.unwrap_or(3_000_000);
    let root = workspace_root();
    let bench_dir = root.join(".atl/bench");
    let mirror_dir = bench_dir.join(format!("mirror-yellow-{YEAR}-{rows}"));
    generate_mirror(&mirror_dir, rows)?;
    let mirror = TlcMirror::start(&mirror_dir).context("starting the TLC mirror")?;
    // The stage binaries first, so that the clock below times the pipeline, not the compiler.
    stages::build(stages::Profile::Release)?;

    std::fs::create_dir_all(&bench_dir)?;
    let run_dir = tempfile::Builder::new().prefix("year-").tempdir_in(&bench_dir)?;
    make_traversable(run_dir.path())?;
    let pipeline_args = PipelineArgs {
        root: Some(run_dir.path().to_owned()),
        ports: Ports { warehouse_port: free_port()?, mart_port: free_port()? },
        debug: false,
        kind: "yellow".into(),
        months: Some(YEAR.into()),
        latest: false,
    };
    let load_before = load_average();
    let machine_before = CpuTimes::now();
    let clock = Instant::now();
    let env = [
        ("ATL__SOURCE__BASE_URL".to_owned(), mirror.base_url()),
        ("ATL__SOURCE__INDICATORS_URL".to_owned(), format!("{}/{INDICATORS_PATH}", mirror.base_url())),
    ];
    let outcome = pipeline::run_with(&pipeline_args, &env);
    let seconds = clock.elapsed().as_secs_f64();
    let stopped = services::down(run_dir.path());
    outcome?;
    stopped?;
    println!(
        "year: 12 generated yellow months of {rows} rows ({} M rows) from a local mirror to the dashboard in {seconds:.1} s \
         (load average before {load_before}, after {}; {})",
        12 * rows / 1_000_000,
        load_average(),
        steal_since(machine_before)
    );
    Ok(())
}

/// Where the generator puts the TLC's monthly indicators in a mirror.
const INDICATORS_PATH: &str = "reports/data_reports_monthly.csv";

/// Writes the year's months in the CDN's layout, once per row count (kept in .atl/bench),
/// with the reference files the pipeline fetches (zones, shapes, the TLC's indicators).
fn generate_mirror(dir: &Path, rows: usize) -> anyhow::Result<()> {
    let complete = dir.join(".complete");
    if complete.is_file() {
        // Mirrors made before the generator wrote the reference files: add them.
        if !dir.join(INDICATORS_PATH).is_file() {
            run_generator(dir, rows, &["--reference-only"])?;
        }
        return Ok(());
    }
    println!("==> generating {YEAR} ({rows} rows a month) into {}", dir.display());
    run_generator(dir, rows, &[])?;
    std::fs::write(&complete, "")?;
    Ok(())
}

fn run_generator(dir: &Path, rows: usize, extra: &[&str]) -> anyhow::Result<()> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(workspace_root())
        .args(["run", "--quiet", "--release", "-p", "atl-testdata", "--example", "generate", "--"])
        .args(["--kind", "yellow", "--months", YEAR, "--rows", &rows.to_string(), "--out"])
        .arg(dir)
        .args(extra)
        .status()
        .context("running the generator")?;
    if !status.success() {
        bail!("generating the mirror failed ({status})");
    }
    Ok(())
}

/// The PostgreSQL servers run as `postgres` when we are root: their folders must be reachable.
pub(crate) fn make_traversable(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("chmod {}", dir.display()))
}

pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}
