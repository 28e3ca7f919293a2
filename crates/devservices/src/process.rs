//! Small helpers shared by the services: run a command and keep its output, find a
//! free port, read the end of a log.

use std::ffi::OsStr;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::error::{Error, Result};

/// Runs `cmd` to completion with captured output, whatever its exit status.
pub(crate) fn output(cmd: &mut Command) -> Result<Output> {
    cmd.stdin(Stdio::null())
        .output()
        .map_err(|source| Error::Spawn { program: cmd.get_program().into(), source })
}

/// Runs `cmd` to completion with captured output; a non-zero exit is an [`Error::Command`].
pub(crate) fn run(cmd: &mut Command) -> Result<Output> {
    let output = output(cmd)?;
    if output.status.success() { Ok(output) } else { Err(command_failed(cmd, &output)) }
}

/// Runs `cmd` and returns its exit code (`None` when killed by a signal); output is
/// discarded. For programs whose exit code is the answer (`pg_ctl status`, `pg_isready`).
pub(crate) fn exit_code(cmd: &mut Command) -> Result<Option<i32>> {
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|source| Error::Spawn { program: cmd.get_program().into(), source })?;
    Ok(status.code())
}

pub(crate) fn command_failed(cmd: &Command, output: &Output) -> Error {
    let mut stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    if stderr.is_empty() {
        stderr = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    }
    Error::Command { command: command_line(cmd), status: output.status, stderr }
}

/// The command as one shell-like line, for error messages.
pub(crate) fn command_line(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(OsStr::to_string_lossy)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A port that was free on 127.0.0.1 a moment ago. Another process may take it before
/// the server binds it, so callers retry on "address in use".
pub(crate) fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(Error::Listen)?;
    Ok(listener.local_addr().map_err(Error::Listen)?.port())
}

/// The last `lines` lines of a log file (or why it could not be read).
pub(crate) fn log_tail(path: &Path, lines: usize) -> String {
    const MAX_BYTES: u64 = 16 * 1024;
    let read = || -> std::io::Result<String> {
        let mut file = fs::File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(MAX_BYTES)))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    match read() {
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(log unreadable: {e})"),
    }
}
