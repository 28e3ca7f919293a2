//! The stage binaries (`atl-ingest`, `atl-warehouse`, `atl-mart`, `atl-viz`): built once
//! with cargo, then run as a user or the Airflow DAG runs them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};

use crate::workspace_root;

/// Every stage, in the order data flows through them.
pub const ALL: [&str; 4] = ["atl-ingest", "atl-warehouse", "atl-mart", "atl-viz"];

/// Which cargo profile the binaries come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Debug,
    Release,
}

/// Builds the stage binaries. A debug build is the workspace's test build
/// (`cargo test --workspace --no-run`), which holds every stage binary and example: the
/// tests, `conformance`, `airflow` and `pipeline --debug` then share one build. Built
/// with `-p` instead, cargo resolves the dependencies' features for those packages
/// alone, and compiles parquet, arrow, sqlx and the rest a second time.
pub fn build(profile: Profile) -> anyhow::Result<()> {
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.current_dir(workspace_root());
    match profile {
        Profile::Debug => {
            cargo.args(["test", "--workspace", "--no-run", "--quiet"]);
        }
        Profile::Release => {
            cargo.args(["build", "--quiet", "--release"]);
            for stage in ALL {
                cargo.args(["-p", stage]);
            }
        }
    }
    let status = cargo.status().context("running cargo")?;
    if !status.success() {
        bail!("building the stage binaries failed ({status})");
    }
    Ok(())
}

/// The folder holding the built binaries.
pub fn bin_dir(profile: Profile) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join(if profile == Profile::Release { "release" } else { "debug" })
}

/// Runs one stage in `cwd` with extra environment; fails with the stage's name and status.
pub fn run(
    profile: Profile,
    stage: &str,
    args: &[&str],
    cwd: &Path,
    env: &[(String, String)],
) -> anyhow::Result<()> {
    let binary = bin_dir(profile).join(stage);
    // URLs may hold passwords: show the flags, not their values.
    let shown: Vec<&str> = args.iter().copied().filter(|a| !a.contains("://")).collect();
    println!("==> {stage} {}", shown.join(" "));
    let clock = Instant::now();
    let status = Command::new(&binary)
        .args(args)
        .current_dir(cwd)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .status()
        .with_context(|| format!("starting {}", binary.display()))?;
    let seconds = clock.elapsed().as_secs_f64();
    if !status.success() {
        bail!("{stage} failed after {seconds:.1} s ({status})");
    }
    println!("<== {stage} done in {seconds:.1} s");
    Ok(())
}
