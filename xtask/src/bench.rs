//! `cargo xtask bench [STAGE]`: each stage's benchmark, which generates its own TLC-shaped
//! data and prints its figures next to the physical limit measured in the same run.

use std::process::Command;

use anyhow::{Context, bail};

use crate::workspace_root;

/// (stage, package, bench target)
const BENCHES: [(&str, &str, &str); 4] = [
    ("ingest", "atl-ingest", "download"),
    ("warehouse", "atl-warehouse", "load"),
    ("mart", "atl-mart", "build"),
    ("viz", "atl-viz", "render"),
];

pub fn run(stage: Option<&str>) -> anyhow::Result<()> {
    let chosen: Vec<_> = BENCHES.iter().filter(|(s, _, _)| stage.is_none_or(|w| w == *s)).collect();
    if chosen.is_empty() {
        let known: Vec<&str> = BENCHES.iter().map(|(s, _, _)| *s).collect();
        bail!("no benchmark for `{}`; known: {}", stage.unwrap_or_default(), known.join(", "));
    }
    for (stage, package, bench) in chosen {
        println!("==> bench {stage}");
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(workspace_root())
            .args(["bench", "-p", package, "--bench", bench])
            .status()
            .context("running cargo bench")?;
        if !status.success() {
            bail!("the {stage} benchmark failed ({status})");
        }
    }
    Ok(())
}
