//! What the pipeline tests share: generated months on a local mirror, two throwaway
//! servers where the pipeline expects them, and `cargo xtask pipeline` run against both.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use atl_devservices::{PgCluster, PgInstall, TlcMirror};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

pub fn text(output: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

pub fn psql(url: &str, sql: &str) -> String {
    let output =
        Command::new(PgInstall::find().unwrap().bin("psql")).args([url, "-XAtqc", sql]).output().unwrap();
    assert!(output.status.success(), "{sql}: {}", text(&output));
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Writes generated `kind` months (and the reference files) under `out` in the CDN's layout.
pub fn generate(kind: &str, months: &str, rows: usize, out: &Path) {
    let generate = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(workspace())
        .args(["run", "-q", "-p", "atl-testdata", "--example", "generate", "--"])
        .args(["--kind", kind, "--months", months, "--rows", &rows.to_string(), "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert!(generate.status.success(), "{}", text(&generate));
}

/// A pipeline root with its two servers (stopped even when an assertion fails).
pub struct PipelineRoot {
    pub dir: tempfile::TempDir,
    pub warehouse_port: u16,
    pub mart_port: u16,
    clusters: Vec<PgCluster>,
}

impl PipelineRoot {
    pub fn new() -> PipelineRoot {
        let dir = tempfile::tempdir().unwrap();
        let (warehouse_port, mart_port) = (free_port(), free_port());
        let clusters = vec![
            PgCluster::new(dir.path().join(".atl/pg/warehouse"), warehouse_port).unwrap(),
            PgCluster::new(dir.path().join(".atl/pg/mart"), mart_port).unwrap(),
        ];
        PipelineRoot { dir, warehouse_port, mart_port, clusters }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The lake folder the pipeline's stages use (`file://data/lake` from the root).
    pub fn lake(&self) -> PathBuf {
        self.path().join("data/lake")
    }

    pub fn mart_url(&self) -> String {
        format!("postgres://atl:atl@127.0.0.1:{}/mart", self.mart_port)
    }

    pub fn warehouse_url(&self) -> String {
        format!("postgres://atl:atl@127.0.0.1:{}/warehouse", self.warehouse_port)
    }

    /// Runs `cargo xtask pipeline --debug` with `args` against `mirror`; the indicators URL
    /// is the mirror's unless `env` sets another.
    pub fn pipeline(&self, args: &[&str], mirror: &TlcMirror, env: &[(&str, String)]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        command
            .args(["pipeline", "--debug"])
            .args(args)
            .arg("--root")
            .arg(self.path())
            .args(["--warehouse-port", &self.warehouse_port.to_string()])
            .args(["--mart-port", &self.mart_port.to_string()])
            .env("ATL__SOURCE__BASE_URL", mirror.base_url())
            .env(
                "ATL__SOURCE__INDICATORS_URL",
                format!("{}/reports/data_reports_monthly.csv", mirror.base_url()),
            )
            .env("RUST_LOG", "warn");
        for (key, value) in env {
            command.env(key, value);
        }
        command.output().unwrap()
    }
}

impl Drop for PipelineRoot {
    fn drop(&mut self) {
        for cluster in &self.clusters {
            let _ = cluster.stop();
        }
    }
}
