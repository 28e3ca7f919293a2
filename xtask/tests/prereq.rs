//! `cargo xtask test` and `pipeline` check what they need before building anything: with
//! PostgreSQL and Chromium absent they fail at once, naming both and how to install them,
//! and never start cargo.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs xtask with PostgreSQL and Chromium hidden and `CARGO` a script that leaves a mark.
fn run_without_tools(args: &[&str], dir: &Path) -> (bool, String, bool) {
    let mark = dir.join("cargo-ran");
    let fake_cargo = dir.join("cargo");
    std::fs::write(&fake_cargo, format!("#!/bin/sh\ntouch '{}'\n", mark.display())).unwrap();
    std::fs::set_permissions(&fake_cargo, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env(atl_devservices::BINDIR_ENV, dir.join("no-postgres"))
        .env(atl_devservices::CHROMIUM_ENV, dir.join("no-chromium"))
        .env("CARGO", &fake_cargo)
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    let text = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.success(), text, mark.exists())
}

#[test]
fn test_names_every_missing_tool_and_builds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, text, cargo_ran) = run_without_tools(&["test"], dir.path());
    assert!(!ok, "{text}");
    assert!(!cargo_ran, "cargo was started before the check: {text}");
    assert!(text.contains("PostgreSQL's server binaries"), "{text}");
    assert!(text.contains("Chromium (the dashboard tests"), "{text}");
    assert!(text.contains("Debian/Ubuntu: sudo apt-get install -y postgresql chromium"), "{text}");
    assert!(text.contains("other systems: install PostgreSQL 15+ server, Chromium"), "{text}");
}

#[test]
fn pipeline_needs_postgresql_only() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let (ok, text, cargo_ran) =
        run_without_tools(&["pipeline", "--root", root.to_str().unwrap()], dir.path());
    assert!(!ok, "{text}");
    assert!(!cargo_ran, "{text}");
    assert!(text.contains("sudo apt-get install -y postgresql\n"), "{text}");
    assert!(!text.contains("Chromium"), "the pipeline does not need a browser: {text}");
}
