//! `test`: the workspace's tests, with the test tools installed first.

use std::env;
use std::path::Path;
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

use crate::flags::TestArgs;
use crate::prereq::{self, Tool};
use crate::workspace_root;

pub fn run(args: &TestArgs) -> anyhow::Result<ExitCode> {
    let root = workspace_root();
    prereq::require("test", &[Tool::Postgres, Tool::PythonVenv, Tool::Chromium], &root)?;
    let venv = root.join(".tools/venv");
    let moto_server = venv.join("bin/moto_server");
    if !moto_server.is_file() {
        install_requirements(&venv, &root.join("xtask/requirements-test.txt"))?;
    }

    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cargo_test = Command::new(&cargo);
    cargo_test.arg("test");
    // `-p` narrows the run; without it, every crate's tests run.
    let picks_packages = args
        .cargo_args
        .iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "-p" || a.starts_with("--package") || (a.starts_with("-p") && a.len() > 2));
    if !picks_packages {
        cargo_test.arg("--workspace");
    }
    let status = cargo_test
        .args(&args.cargo_args)
        .env(atl_devservices::MOTO_SERVER_ENV, &moto_server)
        .current_dir(&root)
        .status()
        .with_context(|| format!("running {}", cargo.to_string_lossy()))?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        // Killed by a signal.
        None => ExitCode::FAILURE,
    })
}

/// Creates the virtualenv if needed and installs the pinned requirements into it.
pub fn install_requirements(venv: &Path, requirements: &Path) -> anyhow::Result<()> {
    if !venv.join("bin/python").is_file() {
        eprintln!("creating {}", venv.display());
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(venv)
            .status()
            .context("running python3 (install Python 3 with its venv module)")?;
        if !status.success() {
            bail!("`python3 -m venv {}` failed ({status})", venv.display());
        }
    }
    eprintln!("installing {} into {}", requirements.display(), venv.display());
    let pip = venv.join("bin/pip");
    let status = Command::new(&pip)
        .args(["install", "--quiet", "-r"])
        .arg(requirements)
        .status()
        .with_context(|| format!("running {}", pip.display()))?;
    if !status.success() {
        bail!("`{} install -r {}` failed ({status})", pip.display(), requirements.display());
    }
    Ok(())
}
