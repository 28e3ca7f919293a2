//! Fixtures shared by the ingest tests: a TLC-shaped mirror serving generated months, and
//! a lake on either backend.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use atl_core::{LakeConfig, Secret, SourceConfig, TripFile, TripKind, YearMonth, ZONES_SOURCE_PATH};
use atl_devservices::{S3Server, TlcMirror};
use atl_lake::Lake;
use atl_testdata::{TripFileSpec, write_trip_file_to, zone_table_csv};
use tempfile::TempDir;

/// Rows per generated month: small files, several row groups.
pub const ROWS: usize = 3_000;

pub fn month(s: &str) -> YearMonth {
    s.parse().expect("a month")
}

pub fn yellow(m: &str) -> TripFile {
    TripFile::new(TripKind::Yellow, month(m))
}

/// A folder laid out like the TLC CDN, served by a [`TlcMirror`].
pub struct Cdn {
    pub dir: TempDir,
    pub mirror: TlcMirror,
    /// Rows generated per served file.
    pub rows: HashMap<TripFile, usize>,
}

impl Cdn {
    pub fn new() -> Cdn {
        let dir = tempfile::tempdir().expect("temp dir");
        let mirror = TlcMirror::start(dir.path()).expect("mirror");
        let cdn = Cdn { dir, mirror, rows: HashMap::new() };
        std::fs::create_dir_all(cdn.dir.path().join("misc")).expect("misc/");
        std::fs::write(cdn.dir.path().join(ZONES_SOURCE_PATH), zone_table_csv()).expect("zone table");
        cdn
    }

    /// Serves a generated file of `file`'s kind and month with `rows` rows.
    pub fn add(&mut self, file: TripFile, rows: usize) -> &mut Cdn {
        let spec = TripFileSpec::new(file.kind, file.month, rows).row_group_rows(1_000);
        self.add_as(file, &spec)
    }

    /// Serves the file `spec` describes under `file`'s name (e.g. an fhv file as yellow).
    pub fn add_as(&mut self, file: TripFile, spec: &TripFileSpec) -> &mut Cdn {
        let generated = write_trip_file_to(spec, &self.file_path(file)).expect("generate");
        self.rows.insert(file, generated.rows);
        self
    }

    pub fn file_path(&self, file: TripFile) -> PathBuf {
        self.dir.path().join(file.source_path())
    }

    pub fn size(&self, file: TripFile) -> u64 {
        std::fs::metadata(self.file_path(file)).expect("served file").len()
    }

    pub fn source(&self) -> SourceConfig {
        SourceConfig {
            base_url: self.mirror.base_url(),
            concurrency: 4,
            retries: 3,
            timeout_secs: 2,
            months: String::new(),
            kind: "yellow".to_owned(),
            indicators_url: format!("{}/reports/data_reports_monthly.csv", self.mirror.base_url()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    File,
    S3,
}

/// A fresh lake: a temp folder, or a new bucket on a moto server of its own.
pub struct TestLake {
    pub lake: Lake,
    pub config: LakeConfig,
    pub dir: TempDir,
    pub s3: Option<S3Server>,
}

static BUCKETS: AtomicUsize = AtomicUsize::new(0);

impl TestLake {
    pub async fn new(backend: Backend) -> TestLake {
        let dir = tempfile::tempdir().expect("temp dir");
        let (config, s3) = match backend {
            Backend::File => (
                LakeConfig {
                    url: format!("file://{}", dir.path().join("lake").display()),
                    endpoint: String::new(),
                    region: String::new(),
                    access_key: String::new(),
                    secret_key: Secret::default(),
                    allow_http: false,
                },
                None,
            ),
            Backend::S3 => {
                let s3 = S3Server::start().expect("moto_server");
                let n = BUCKETS.fetch_add(1, Ordering::Relaxed);
                let config = LakeConfig {
                    url: format!("s3://atl-test-{}-{n}", std::process::id()),
                    endpoint: s3.endpoint(),
                    region: s3.region().to_owned(),
                    access_key: s3.access_key().to_owned(),
                    secret_key: Secret::new(s3.secret_key()),
                    allow_http: true,
                };
                (config, Some(s3))
            }
        };
        let lake = Lake::create(&config).expect("open the lake");
        lake.init().await.expect("init the lake");
        TestLake { lake, config, dir, s3 }
    }

    /// `ATL__LAKE__*` variables pointing a binary at this lake.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("ATL__LAKE__URL".into(), self.config.url.clone()),
            ("ATL__LAKE__ENDPOINT".into(), self.config.endpoint.clone()),
            ("ATL__LAKE__REGION".into(), self.config.region.clone()),
            ("ATL__LAKE__ACCESS_KEY".into(), self.config.access_key.clone()),
            ("ATL__LAKE__SECRET_KEY".into(), self.config.secret_key.expose().to_owned()),
            ("ATL__LAKE__ALLOW_HTTP".into(), self.config.allow_http.to_string()),
        ]
    }

    /// Every object key in the lake (all kinds and reference/).
    pub async fn keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        for kind in TripKind::ALL {
            keys.extend(
                self.lake
                    .list(kind.as_str())
                    .await
                    .expect("list")
                    .into_iter()
                    .map(|m| m.location.to_string()),
            );
        }
        keys.extend(
            self.lake.reference_objects().await.expect("list").into_iter().map(|m| m.location.to_string()),
        );
        keys.sort();
        keys
    }

    /// Files left in the staging folder.
    pub fn staging_files(&self) -> Vec<PathBuf> {
        list_files(&self.lake.staging_dir())
    }
}

impl Drop for TestLake {
    fn drop(&mut self) {
        // An S3 lake stages under the system temp folder, outside `dir`.
        if self.s3.is_some() {
            let _ = std::fs::remove_dir_all(self.lake.staging_dir());
        }
    }
}

pub fn list_files(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
        Err(_) => Vec::new(),
    }
}

/// Defines `mod $name { fn file(); fn s3(); }` running `$name(Backend)` on each backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn file() {
                    super::$name($crate::common::Backend::File).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn s3() {
                    super::$name($crate::common::Backend::S3).await
                }
            }
        )*
    };
}
