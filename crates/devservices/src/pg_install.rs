//! Where PostgreSQL's server binaries are installed.
//!
//! Debian and Ubuntu put them outside `PATH`, under `/usr/lib/postgresql/<major>/bin`
//! (package `postgresql`); only the client wrappers live in `/usr/bin`.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};

/// The environment variable that names the folder holding `initdb`, `pg_ctl`, `postgres`.
pub const BINDIR_ENV: &str = "ATL_PG_BINDIR";

/// A folder with PostgreSQL's server and client binaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgInstall {
    bindir: PathBuf,
}

impl PgInstall {
    /// Finds the binaries: env `ATL_PG_BINDIR`, else `pg_config --bindir` when that folder
    /// holds `initdb`, else the highest version of `/usr/lib/postgresql/*/bin` holding
    /// `initdb`.
    pub fn find() -> Result<PgInstall> {
        let mut searched = Vec::new();

        if let Some(dir) = env::var_os(BINDIR_ENV) {
            let dir = PathBuf::from(dir);
            if has_initdb(&dir) {
                return Ok(PgInstall { bindir: dir });
            }
            // An explicit setting that is wrong is an error, not a reason to guess.
            return Err(Error::PgNotFound { searched: format!("{BINDIR_ENV}={}", dir.display()) });
        }

        match pg_config_bindir() {
            Some(dir) if has_initdb(&dir) => return Ok(PgInstall { bindir: dir }),
            Some(dir) => searched.push(format!("{} (from pg_config --bindir)", dir.display())),
            None => searched.push("pg_config --bindir (not available)".to_owned()),
        }

        if let Some(dir) = newest_debian_bindir() {
            return Ok(PgInstall { bindir: dir });
        }
        searched.push("/usr/lib/postgresql/*/bin".to_owned());

        Err(Error::PgNotFound { searched: searched.join(", ") })
    }

    /// Uses the binaries in `bindir`, without checking them.
    pub fn at(bindir: impl Into<PathBuf>) -> PgInstall {
        PgInstall { bindir: bindir.into() }
    }

    /// The folder holding the binaries.
    pub fn bindir(&self) -> &Path {
        &self.bindir
    }

    /// The path of one binary, e.g. `bin("psql")`.
    pub fn bin(&self, name: &str) -> PathBuf {
        self.bindir.join(name)
    }
}

fn has_initdb(dir: &Path) -> bool {
    dir.join("initdb").is_file()
}

fn pg_config_bindir() -> Option<PathBuf> {
    let output = Command::new("pg_config").arg("--bindir").output().ok()?;
    if !output.status.success() {
        return None;
    }
    let dir = String::from_utf8(output.stdout).ok()?;
    let dir = dir.trim();
    (!dir.is_empty()).then(|| PathBuf::from(dir))
}

fn newest_debian_bindir() -> Option<PathBuf> {
    let entries = std::fs::read_dir("/usr/lib/postgresql").ok()?;
    entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = parse_version(entry.file_name().to_str()?)?;
            let bin = entry.path().join("bin");
            has_initdb(&bin).then_some((version, bin))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, bin)| bin)
}

/// `"16"` -> `[16]`, `"9.6"` -> `[9, 6]`; compared numerically so 10 beats 9.6.
fn parse_version(name: &str) -> Option<Vec<u32>> {
    name.split('.').map(|part| part.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert!(parse_version("10").unwrap() > parse_version("9.6").unwrap());
        assert!(parse_version("16").unwrap() > parse_version("15").unwrap());
        assert_eq!(parse_version("main"), None);
    }
}
