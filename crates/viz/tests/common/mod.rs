//! A temp PostgreSQL server holding the mart's aggregate tables, the `atl-viz serve` child
//! process, headless Chromium, and the pages read by an HTTP client and HTML parser
//! ([`page`]).
#![allow(dead_code)]

pub mod page;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use atl_devservices::PgServer;

pub const FIXTURE_SQL: &str = include_str!("../fixtures/mart_aggregates.sql");

/// A temp server whose `postgres` database holds the fixture mart.
pub struct MartFixture {
    pub pg: PgServer,
}

impl MartFixture {
    pub fn start() -> MartFixture {
        let pg = PgServer::temp().expect("a temp PostgreSQL server (install the postgresql package)");
        pg.psql("postgres", FIXTURE_SQL).expect("the fixture aggregates");
        MartFixture { pg }
    }

    /// Fills the aggregates of a month (`2023-01`), `scale` times the base trip counts.
    pub fn fill_month(&self, month: &str, scale: u32) {
        self.sql(&format!("SELECT public.viz_fixture_fill_month('{month}-01'::date, {scale})"));
    }

    pub fn url(&self) -> String {
        self.pg.url("postgres")
    }

    pub fn sql(&self, sql: &str) -> String {
        self.pg.psql("postgres", sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `atl-viz serve` as a child process, killed on drop.
pub struct ServeProcess {
    pub child: Child,
    pub addr: String,
}

impl ServeProcess {
    pub fn start(mart_url: &str) -> ServeProcess {
        let addr = format!("127.0.0.1:{}", free_port());
        let child = Command::new(env!("CARGO_BIN_EXE_atl-viz"))
            .args(["serve", "--addr", &addr])
            .env("ATL__MART__URL", mart_url)
            .env("RUST_LOG", "atl_viz=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting atl-viz serve");
        let mut server = ServeProcess { child, addr };
        // Up once it answers HTTP at all: /healthz says 503 while the mart is down.
        let deadline = Instant::now() + Duration::from_secs(20);
        while let Err(e) = page::try_get(&server.addr, "/healthz") {
            assert!(server.is_running(), "atl-viz serve exited before it answered on {}", server.addr);
            assert!(Instant::now() < deadline, "atl-viz serve did not answer on {}: {e}", server.addr);
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Debian's `chromium` (or the one `ATL_CHROMIUM` names); a missing browser fails the test.
pub fn chromium() -> PathBuf {
    atl_devservices::find_chromium().unwrap_or_else(|| {
        panic!(
            "headless Chromium is needed for this test and was not found: run `apt-get install -y chromium`"
        )
    })
}

fn run_chromium(args: &[String]) -> Output {
    let profile = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(chromium());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(args)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let child = cmd.spawn().expect("starting chromium");
    let pid = child.id();
    // A hung browser must fail the test, not hang it.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        if rx.recv_timeout(Duration::from_secs(90)).is_err() {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        }
    });
    let output = child.wait_with_output().expect("chromium output");
    let _ = tx.send(());
    output
}

/// Lines of Chromium's log that report a page error (console errors, uncaught exceptions).
pub fn page_errors(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| {
            l.contains("Uncaught")
                || (l.contains("CONSOLE") && l.contains("ERROR"))
                || l.contains(":CONSOLE(")
        })
        .map(str::to_owned)
        .collect()
}

/// The page's DOM after load, and Chromium's log.
pub fn dump_dom(url: &str) -> (String, String) {
    let out = run_chromium(&["--dump-dom".into(), url.into()]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "chromium --dump-dom {url} failed: {stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

/// A PNG of the page, `width` × `height` CSS pixels.
pub fn screenshot(url: &str, path: &Path, width: u32, height: u32) -> String {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let out = run_chromium(&[
        format!("--screenshot={}", path.display()),
        format!("--window-size={width},{height}"),
        url.into(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success() && path.is_file(), "chromium --screenshot of {url} failed: {stderr}");
    stderr
}

/// The page's DOM after load in a `width` × `height` window: what a script of the page wrote
/// about the layout (`--dump-dom` alone cannot measure it) is in the DOM.
pub fn dump_dom_at(url: &str, width: u32, height: u32) -> (String, String) {
    let out = run_chromium(&[format!("--window-size={width},{height}"), "--dump-dom".into(), url.into()]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "chromium --dump-dom {url} failed: {stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}
