//! `cargo xtask migrate`: brings both servers' schemas to this checkout's newest migrations
//! with the stage binaries' own `migrate` commands, for an operator who upgrades ahead of the
//! next scheduled run. The servers come from the configuration of the current folder.

use crate::stages::{self, Profile};

pub fn run(debug: bool) -> anyhow::Result<()> {
    let profile = if debug { Profile::Debug } else { Profile::Release };
    stages::build(profile)?;
    let cwd = std::env::current_dir()?;
    stages::run(profile, "atl-warehouse", &["migrate"], &cwd, &[])?;
    stages::run(profile, "atl-mart", &["migrate"], &cwd, &[])
}
