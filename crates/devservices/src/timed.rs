//! A process timed as a user waits for it, for the benchmarks: wall time from spawn to exit
//! and the child's peak resident memory, as the kernel counted it (`ru_maxrss`, reported by
//! GNU time, so that no sampling misses a short peak).

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::process::command_line;

/// GNU time: it waits for its child with wait4 and prints the child's rusage.
const GNU_TIME: &str = "/usr/bin/time";

/// What [`run_timed`] measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimedRun {
    /// Spawn to exit.
    pub seconds: f64,
    /// The child's peak resident set size, in kB.
    pub peak_rss_kb: u64,
    /// The child's CPU time, user and system, in seconds (its servers' time is not in it).
    pub cpu_seconds: f64,
}

impl TimedRun {
    /// Peak RSS in MB (10^6 bytes).
    pub fn peak_rss_mb(&self) -> f64 {
        self.peak_rss_kb as f64 * 1024.0 / 1e6
    }
}

/// Runs `program args...` under GNU time (`/usr/bin/time`, Debian package `time`) with the
/// given environment; fails when it cannot start or exits non-zero, with its stderr.
pub fn run_timed(program: impl Into<PathBuf>, args: &[String], env: &[(&str, &str)]) -> Result<TimedRun> {
    let program = program.into();
    let report = tempfile::NamedTempFile::new().map_err(|source| Error::Io {
        action: "create a temporary file in",
        path: std::env::temp_dir(),
        source,
    })?;
    let mut command = Command::new(GNU_TIME);
    command.args(["-f", "%M %U %S", "-o"]).arg(report.path()).arg(&program).args(args);
    command.envs(env.iter().copied());
    let clock = Instant::now();
    let output = command.output().map_err(|source| Error::Spawn { program: GNU_TIME.into(), source })?;
    let seconds = clock.elapsed().as_secs_f64();
    if !output.status.success() {
        return Err(Error::Command {
            command: command_line(&command),
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    let text = std::fs::read_to_string(report.path()).map_err(|source| Error::Io {
        action: "read GNU time's report",
        path: report.path().to_owned(),
        source,
    })?;
    // The last line is ours ("RSS user system"); a killed child's lines come before it.
    let fields: Vec<&str> = text.lines().last().unwrap_or_default().split_whitespace().collect();
    let number = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    Ok(TimedRun { seconds, peak_rss_kb: number(0) as u64, cpu_seconds: number(1) + number(2) })
}

/// The median of `values` (the upper one of an even count); NaN for none. The benches
/// report medians of alternated rounds.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}
