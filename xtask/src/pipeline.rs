//! `cargo xtask pipeline`: every stage, in order, on the embedded default (local lake
//! folder, the two local PostgreSQL servers of `up`, started when they are not running).
//!
//! Each stage runs as its own binary, exactly as a user or the Airflow DAG runs it, so the
//! pipeline proves the binaries, not a shortcut around them. The first failing stage stops
//! the chain with its error.

use anyhow::Context;

use crate::flags::PipelineArgs;
use crate::prereq::{self, Tool};
use crate::services;
use crate::stages::{self, Profile};

pub fn run(args: &PipelineArgs) -> anyhow::Result<()> {
    run_with(args, &[])
}

/// [`run`], with extra environment for every stage (e.g. `ATL__SOURCE__BASE_URL`).
pub fn run_with(args: &PipelineArgs, extra_env: &[(String, String)]) -> anyhow::Result<()> {
    let root = args.root.clone().unwrap_or_else(crate::workspace_root);
    prereq::require("pipeline", &[Tool::Postgres], &root)?;
    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    let urls = services::up(&root, &args.ports)?;
    let profile = if args.debug { Profile::Debug } else { Profile::Release };
    stages::build(profile)?;
    // The stages talk to the servers just started, whatever atl.toml says about servers.
    let mut env = extra_env.to_vec();
    env.extend([
        ("ATL__WAREHOUSE__URL".to_owned(), urls.warehouse),
        ("ATL__MART__URL".to_owned(), urls.mart),
    ]);
    let kind = args.kind.as_str();
    let mut ingest = vec!["--zones", "--indicators", "--kind", kind];
    match (&args.months, args.latest) {
        (_, true) => ingest.push("--latest"),
        (Some(months), false) => ingest.extend(["--months", months]),
        (None, false) => {}
    }
    let steps: [(&str, Vec<&str>); 4] = [
        ("atl-ingest", ingest),
        // Every lake month not loaded yet: unpublished months never reached the lake, and
        // months loaded before are skipped by the load log.
        ("atl-warehouse", vec!["load", "--kind", kind]),
        // Months loaded since the mart's last build.
        ("atl-mart", vec!["build", "--kind", kind]),
        ("atl-viz", vec!["dashboard"]),
    ];
    for (stage, stage_args) in steps {
        stages::run(profile, stage, &stage_args, &root, &env)
            .with_context(|| format!("the pipeline stopped at {stage}; the stages after it did not run"))?;
    }
    println!("dashboard: {}", root.join("reports/dashboard/index.html").display());
    Ok(())
}
