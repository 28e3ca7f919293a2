//! What a task needs installed, checked before anything is built: a missing tool found
//! after a 10-minute compile wastes the compile.

use std::path::Path;
use std::process::Command;

use anyhow::bail;
use atl_devservices::{PgInstall, find_chromium};

/// A tool a task needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// PostgreSQL's server binaries: every test and the pipeline start throwaway servers.
    Postgres,
    /// Python 3 with its venv module: the test S3 server (moto) installs into a venv.
    PythonVenv,
    /// Headless Chromium: the dashboard tests open the page.
    Chromium,
}

impl Tool {
    fn what(self) -> &'static str {
        match self {
            Tool::Postgres => {
                "PostgreSQL's server binaries (initdb, pg_ctl; set ATL_PG_BINDIR to their folder)"
            }
            Tool::PythonVenv => {
                "Python 3 with its venv module (the test S3 server, moto, installs into .tools/venv)"
            }
            Tool::Chromium => "Chromium (the dashboard tests open the page headless; or set ATL_CHROMIUM)",
        }
    }

    fn debian_package(self) -> &'static str {
        match self {
            Tool::Postgres => "postgresql",
            Tool::PythonVenv => "python3 python3-venv",
            Tool::Chromium => "chromium",
        }
    }

    fn other_systems(self) -> &'static str {
        match self {
            Tool::Postgres => "PostgreSQL 15+ server",
            Tool::PythonVenv => "Python 3",
            Tool::Chromium => "Chromium",
        }
    }

    fn brew_formula(self) -> &'static str {
        match self {
            Tool::Postgres => "postgresql",
            Tool::PythonVenv => "python",
            Tool::Chromium => "--cask chromium",
        }
    }

    fn is_present(self, root: &Path) -> bool {
        match self {
            Tool::Postgres => PgInstall::find().is_ok(),
            // A venv made before needs no python3 on PATH.
            Tool::PythonVenv => {
                root.join(".tools/venv/bin/python").is_file()
                    || Command::new("python3")
                        .args(["-c", "import venv, ensurepip"])
                        .output()
                        .is_ok_and(|o| o.status.success())
            }
            Tool::Chromium => find_chromium().is_some(),
        }
    }
}

/// Fails, listing every missing tool with the commands that install them, unless all of
/// `tools` are present.
pub fn require(task: &str, tools: &[Tool], root: &Path) -> anyhow::Result<()> {
    let missing: Vec<Tool> = tools.iter().copied().filter(|t| !t.is_present(root)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut message = format!("`cargo xtask {task}` needs what this machine lacks (nothing was built):\n");
    for tool in &missing {
        message.push_str(&format!("  - {}\n", tool.what()));
    }
    let debian: Vec<&str> = missing.iter().map(|t| t.debian_package()).collect();
    let other: Vec<&str> = missing.iter().map(|t| t.other_systems()).collect();
    let brew: Vec<String> = missing.iter().map(|t| format!("brew install {}", t.brew_formula())).collect();
    message.push_str(&format!(
        "install them:\n  Debian/Ubuntu: sudo apt-get install -y {}\n  other systems: install {} with the system's package manager (macOS: {})",
        debian.join(" "),
        other.join(", "),
        brew.join("; "),
    ));
    bail!(message)
}
