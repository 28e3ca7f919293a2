//! `cargo xtask bench scale [--kind fhvhv] [--rows 20000000]`: one generated month at real
//! size through every stage, beside a 3 M-row yellow month in the same run: each stage's
//! binary timed from spawn to exit with its peak RSS (GNU time's ru_maxrss) and the CPU
//! seconds it and each server's backends used (a 2-core machine's stages are bound by the
//! sum), and the bytes the month takes on each server. The figures `docs/scaling.md`
//! projects from.

use std::path::Path;

use anyhow::{Context, bail};
use atl_devservices::{CpuTimes, PgCluster, TlcMirror, load_average, run_timed, steal_since};

use crate::flags::{BenchArgs, Ports};
use crate::{services, stages, workspace_root};

const MONTH: &str = "2024-01";
/// The reference month's kind and size, the figures the issue compares with.
const REFERENCE: (&str, usize) = ("yellow", 3_000_000);

/// One stage of one month: wall seconds, peak RSS in MB, and CPU seconds of the binary, the
/// warehouse server and the mart server.
struct StageRun {
    stage: &'static str,
    seconds: f64,
    rss_mb: f64,
    cpu: [f64; 3],
}

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let kind = args.kind.as_deref().unwrap_or("fhvhv");
    let rows = args.rows.unwrap_or(20_000_000);
    let root = workspace_root();
    let bench_dir = root.join(".atl/bench");
    let mut months = vec![(REFERENCE.0, REFERENCE.1)];
    if kind != REFERENCE.0 || rows != REFERENCE.1 {
        months.push((kind, rows));
    }
    let mirror_dir = bench_dir.join(format!("mirror-scale-{MONTH}"));
    for (kind, rows) in &months {
        generate(&mirror_dir, kind, *rows)?;
    }
    let mirror = TlcMirror::start(&mirror_dir).context("starting the TLC mirror")?;
    stages::build(stages::Profile::Release)?;
    std::fs::create_dir_all(&bench_dir)?;
    let run_dir = tempfile::Builder::new().prefix("scale-").tempdir_in(&bench_dir)?;
    crate::bench::make_traversable(run_dir.path())?;
    let ports = Ports { warehouse_port: crate::bench::free_port()?, mart_port: crate::bench::free_port()? };
    let urls = services::up(run_dir.path(), &ports)?;
    let servers = services::clusters(run_dir.path(), &ports)?;
    let lake = format!("file://{}", run_dir.path().join("lake").display());
    let env = [
        ("ATL__SOURCE__BASE_URL", mirror.base_url()),
        ("ATL__LAKE__URL", lake),
        ("ATL__WAREHOUSE__URL", urls.warehouse.clone()),
        ("ATL__MART__URL", urls.mart.clone()),
        ("ATL__VIZ__OUT_DIR", run_dir.path().join("reports").display().to_string()),
        ("RUST_LOG", "warn,sqlx=error".to_owned()),
    ];
    let machine_before = CpuTimes::now();
    let outcome = months
        .iter()
        .map(|(kind, rows)| month(kind, *rows, &env, &urls, &servers).map(|r| (*kind, *rows, r)))
        .collect::<anyhow::Result<Vec<_>>>();
    let stopped = services::down(run_dir.path());
    let results = outcome?;
    stopped?;
    println!(
        "\nscale: one month ({MONTH}) per kind, stage by stage, release binaries (load average {}; {})",
        load_average(),
        steal_since(machine_before)
    );
    println!("| kind | rows | stage | seconds | rows/s | peak RSS | CPU-s: binary, warehouse, mart |");
    println!("|---|---:|---|---:|---:|---:|---:|");
    for (kind, rows, (runs, sizes)) in &results {
        for r in runs {
            println!(
                "| {kind} | {rows} | {} | {:.1} | {:.0} k | {:.0} MB | {:.1}, {:.1}, {:.1} |",
                r.stage,
                r.seconds,
                *rows as f64 / r.seconds / 1e3,
                r.rss_mb,
                r.cpu[0],
                r.cpu[1],
                r.cpu[2]
            );
        }
        println!("| {kind} | {rows} | bytes | {sizes} | | | |");
    }
    Ok(())
}

/// Runs every stage on one month of `kind`; returns the runs and the bytes on each server.
fn month(
    kind: &str,
    rows: usize,
    env: &[(&str, String)],
    urls: &services::ServerUrls,
    servers: &[PgCluster; 2],
) -> anyhow::Result<(Vec<StageRun>, String)> {
    let server_cpu = || -> anyhow::Result<[f64; 2]> {
        Ok([servers[0].settled_cpu_seconds()?, servers[1].settled_cpu_seconds()?])
    };
    let bin = stages::bin_dir(stages::Profile::Release);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let steps: [(&'static str, &str, Vec<&str>); 4] = [
        ("ingest", "atl-ingest", vec!["--zones", "--kind", kind, "--months", MONTH]),
        ("warehouse", "atl-warehouse", vec!["load", "--kind", kind, "--months", MONTH]),
        ("mart", "atl-mart", vec!["build", "--kind", kind, "--months", MONTH]),
        ("dashboard", "atl-viz", vec!["dashboard"]),
    ];
    let mut runs = Vec::new();
    for (stage, binary, args) in steps {
        println!("==> {kind} {MONTH} ({rows} rows): {binary} {}", args.join(" "));
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let before = server_cpu().context("reading the servers' CPU time")?;
        let run = run_timed(bin.join(binary), &args, &env)
            .with_context(|| format!("{binary} on {kind} {MONTH}"))?;
        let after = server_cpu().context("reading the servers' CPU time")?;
        let cpu = [run.cpu_seconds, after[0] - before[0], after[1] - before[1]];
        println!(
            "<== {:.1} s, peak RSS {:.0} MB; CPU-s: {binary} {:.1}, warehouse server {:.1}, mart server {:.1}",
            run.seconds,
            run.peak_rss_mb(),
            cpu[0],
            cpu[1],
            cpu[2]
        );
        runs.push(StageRun { stage, seconds: run.seconds, rss_mb: run.peak_rss_mb(), cpu });
    }
    // The month's leaf tables: a warehouse month is loaded in parts under its partition.
    let leaves = |table: &str, like: &str| {
        format!(
            "SELECT pg_size_pretty(coalesce(sum(pg_total_relation_size(relid)), 0)) \
             FROM pg_partition_tree('{table}') WHERE isleaf AND relid::text LIKE '%{like}%'"
        )
    };
    let raw = psql(&urls.warehouse, &leaves(&format!("raw.{kind}_tripdata"), ""))?;
    let fact = if kind == "yellow" || kind == "green" { "mart.fact_trip" } else { "mart.fact_for_hire_trip" };
    let mart = psql(&urls.mart, &leaves(fact, kind))?;
    Ok((runs, format!("warehouse {raw}, mart fact {mart}")))
}

fn psql(url: &str, sql: &str) -> anyhow::Result<String> {
    let psql = atl_devservices::PgInstall::find().context("finding PostgreSQL's binaries")?.bin("psql");
    let output = std::process::Command::new(psql)
        .args(["-X", "-At", "-d", url, "-c", sql])
        .output()
        .context("running psql")?;
    if !output.status.success() {
        bail!("psql: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Writes one month of `kind` in the CDN's layout, once per size (kept in .atl/bench).
fn generate(dir: &Path, kind: &str, rows: usize) -> anyhow::Result<()> {
    // The marker holds the row count of the file written last.
    let complete = dir.join(format!(".complete-{kind}"));
    if std::fs::read_to_string(&complete).is_ok_and(|n| n == rows.to_string()) {
        return Ok(());
    }
    println!("==> generating {kind} {MONTH} ({rows} rows) into {}", dir.display());
    let status = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(workspace_root())
        .args(["run", "--quiet", "--release", "-p", "atl-testdata", "--example", "generate", "--"])
        .args(["--kind", kind, "--months", MONTH, "--rows", &rows.to_string(), "--out"])
        .arg(dir)
        .status()
        .context("running the generator")?;
    if !status.success() {
        bail!("generating {kind} {MONTH} failed ({status})");
    }
    std::fs::write(&complete, rows.to_string())?;
    Ok(())
}
