//! `cargo xtask <task>`: the workspace's automation, one file per task.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod airflow;
mod bench;
mod conformance;
mod flags;
mod migrate;
mod pipeline;
mod prereq;
mod scale;
mod services;
mod stages;
mod test;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

use crate::flags::{Task, Xtask};

fn main() -> ExitCode {
    match run(Xtask::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(flags: Xtask) -> anyhow::Result<ExitCode> {
    match flags.task {
        Task::Up(ports) => {
            services::up(&workspace_root(), &ports)?;
        }
        Task::Down => services::down(&workspace_root())?,
        Task::Status => services::status(&workspace_root())?,
        Task::Test(args) => return test::run(&args),
        Task::Pipeline(args) => pipeline::run(&args)?,
        Task::Conformance { folder } => conformance::run(&folder)?,
        Task::Bench(args) => bench::run(&args)?,
        Task::Airflow(args) => airflow::run(&args)?,
        Task::Migrate { debug } => migrate::run(debug)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The workspace root: xtask's parent folder.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives inside the workspace").to_owned()
}
