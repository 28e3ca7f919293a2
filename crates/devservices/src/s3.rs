//! A real S3 endpoint for tests: moto's standalone server (`moto_server`, PyPI
//! `moto[server]`).
//!
//! moto was picked over `s3s-fs` because it lists nested keys correctly with
//! `encoding-type=url` (which object_store asks for); it ignores credentials, so
//! tests of signing belong to the compose stack's MinIO.

use std::env;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::error::{Error, Result, START_TIMEOUT};
use crate::process::{free_port, log_tail};

/// The environment variable that names the `moto_server` executable.
pub const MOTO_SERVER_ENV: &str = "ATL_MOTO_SERVER";

/// Where `cargo xtask test` installs moto: `<workspace root>/.tools/venv/bin/moto_server`.
const WORKSPACE_MOTO_SERVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.tools/venv/bin/moto_server");
const PORT_ATTEMPTS: usize = 3;

/// A running `moto_server` on a free port of 127.0.0.1, killed on drop.
///
/// ```no_run
/// let s3 = atl_devservices::S3Server::start()?;
/// // e.g. object_store's AmazonS3Builder::new().with_endpoint(s3.endpoint())
/// //     .with_allow_http(true).with_region(s3.region()) ...
/// assert!(s3.endpoint().starts_with("http://127.0.0.1:"));
/// # Ok::<(), atl_devservices::Error>(())
/// ```
#[derive(Debug)]
pub struct S3Server {
    child: Child,
    port: u16,
    log: PathBuf,
    // Holds the log; deleted after the child is gone.
    _dir: TempDir,
}

impl S3Server {
    /// Starts `moto_server` (see [`find_moto_server`]) and waits until it answers HTTP.
    pub fn start() -> Result<S3Server> {
        let binary = find_moto_server()?;
        let dir = tempfile::Builder::new().prefix("atl-s3-").tempdir().map_err(|source| Error::Io {
            action: "create a temporary folder in",
            path: env::temp_dir(),
            source,
        })?;
        let log = dir.path().join("moto_server.log");
        let mut attempt = 1;
        loop {
            let port = free_port()?;
            let mut child = spawn(&binary, port, &log)?;
            match wait_ready(&mut child, port, &log) {
                Ok(()) => {
                    return Ok(S3Server { child, port, log, _dir: dir });
                }
                Err(e) => {
                    stop(&mut child);
                    // Another process took the port between our probe and moto's bind.
                    let port_taken = log_tail(&log, 5).contains("in use");
                    if !(port_taken && attempt < PORT_ATTEMPTS) {
                        return Err(e);
                    }
                    attempt += 1;
                }
            }
        }
    }

    /// `http://127.0.0.1:{port}`: the endpoint to give an S3 client (path-style, HTTP).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// An access key for clients that insist on one (moto accepts any).
    pub fn access_key(&self) -> &'static str {
        "atl-test"
    }

    /// The secret key that goes with [`access_key`](Self::access_key).
    pub fn secret_key(&self) -> &'static str {
        "atl-test-secret"
    }

    /// The region to sign for.
    pub fn region(&self) -> &'static str {
        "us-east-1"
    }

    /// The server's log file (its stdout and stderr).
    pub fn log_path(&self) -> &Path {
        &self.log
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// The `moto_server` executable: env `ATL_MOTO_SERVER`, else
/// `<workspace root>/.tools/venv/bin/moto_server` (installed by `cargo xtask test`),
/// else `moto_server` on `PATH`.
pub fn find_moto_server() -> Result<PathBuf> {
    if let Some(path) = env::var_os(MOTO_SERVER_ENV) {
        let path = PathBuf::from(path);
        if path.is_file() {
            return Ok(path);
        }
        return Err(Error::MotoNotFound { searched: format!("{MOTO_SERVER_ENV}={}", path.display()) });
    }
    let workspace = Path::new(WORKSPACE_MOTO_SERVER);
    if workspace.is_file() {
        return Ok(workspace.to_owned());
    }
    let on_path = env::var_os("PATH")
        .iter()
        .flat_map(env::split_paths)
        .map(|dir| dir.join("moto_server"))
        .find(|candidate| candidate.is_file());
    on_path.ok_or_else(|| Error::MotoNotFound { searched: format!("{}, PATH", workspace.display()) })
}

fn spawn(binary: &Path, port: u16, log: &Path) -> Result<Child> {
    let io = |source| Error::Io { action: "create", path: log.to_owned(), source };
    let stdout = File::create(log).map_err(io)?;
    let stderr = stdout.try_clone().map_err(io)?;
    Command::new(binary)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .map_err(|source| Error::Spawn { program: binary.to_owned(), source })
}

fn wait_ready(child: &mut Child, port: u16, log: &Path) -> Result<()> {
    let not_ready = |reason: String| Error::NotReady {
        service: "moto_server",
        port,
        reason,
        log: log.to_owned(),
        log_tail: log_tail(log, 20),
    };
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Err(not_ready(format!("it exited ({status})"))),
            Ok(None) => {}
            Err(e) => return Err(not_ready(format!("could not poll the process: {e}"))),
        }
        if answers_http(port) {
            return Ok(());
        }
        if started.elapsed() > START_TIMEOUT {
            return Err(not_ready(format!("no HTTP answer within {}s", START_TIMEOUT.as_secs())));
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// Whether `GET /` on the port gets any HTTP response.
fn answers_http(port: u16) -> bool {
    let probe = || -> std::io::Result<bool> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        write!(stream, "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")?;
        let mut head = [0u8; 8];
        stream.read_exact(&mut head)?;
        Ok(head.starts_with(b"HTTP/1."))
    };
    probe().unwrap_or(false)
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}
