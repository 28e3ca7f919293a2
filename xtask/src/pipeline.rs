//! `cargo xtask pipeline`: every stage, in order, on the embedded default (local lake
//! folder, the two local PostgreSQL servers of `up`, started when they are not running).
//!
//! Each stage runs as its own binary, exactly as a user or the Airflow DAG runs it, so the
//! pipeline proves the binaries, not a shortcut around them. The first failing stage stops
//! the chain with its exit code.

use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};

use crate::flags::{PipelineArgs, Ports};
use crate::{services, workspace_root};

/// The stage binaries, in the order data flows through them.
const STAGES: [&str; 4] = ["atl-ingest", "atl-warehouse", "atl-mart", "atl-viz"];

pub fn run(args: &PipelineArgs) -> anyhow::Result<()> {
    services::up(&Ports { warehouse_port: 15432, mart_port: 15435 })?;
    build_stages()?;
    let kind = args.kind.clone();
    let mut ingest = vec!["--zones".to_owned(), "--kind".into(), kind.clone()];
    match (&args.months, args.latest) {
        (_, true) => ingest.push("--latest".into()),
        (Some(m), false) => ingest.extend(["--months".into(), m.clone()]),
        (None, false) => {}
    }
    // Every lake month not loaded yet: months the source has not published are not in
    // the lake, and months loaded before are skipped by the load log.
    let warehouse = ["load", "--kind", &kind];
    // Months loaded since the mart's last build; the dashboard over every month.
    let mart = ["build", "--kind", &kind];
    let viz = ["dashboard"];
    let owned = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    for (stage, stage_args) in STAGES.iter().zip([ingest, owned(&warehouse), owned(&mart), owned(&viz)]) {
        run_stage(stage, &stage_args)?;
    }
    println!("dashboard: {}", workspace_root().join("reports/dashboard/index.html").display());
    Ok(())
}

fn build_stages() -> anyhow::Result<()> {
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.current_dir(workspace_root()).args(["build", "--release", "--quiet"]);
    for stage in STAGES {
        cargo.args(["-p", stage]);
    }
    let status = cargo.status().context("running cargo build")?;
    if !status.success() {
        bail!("building the stage binaries failed ({status})");
    }
    Ok(())
}

fn run_stage(stage: &str, args: &[String]) -> anyhow::Result<()> {
    let target =
        std::env::var("CARGO_TARGET_DIR").map(Into::into).unwrap_or_else(|_| workspace_root().join("target"));
    let binary = target.join("release").join(stage);
    println!("==> {stage} {}", args.join(" "));
    let clock = Instant::now();
    let status = Command::new(&binary)
        .args(args)
        .current_dir(workspace_root())
        .status()
        .with_context(|| format!("starting {}", binary.display()))?;
    let seconds = clock.elapsed().as_secs_f64();
    if !status.success() {
        bail!("{stage} failed after {seconds:.1} s ({status}); the stages after it did not run");
    }
    println!("<== {stage} done in {seconds:.1} s");
    Ok(())
}
