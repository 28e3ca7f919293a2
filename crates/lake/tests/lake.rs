// Over 400 lines: every test runs on both backends (a folder and an S3 bucket) through one
// fixture, which a split would repeat per file.
//! The lake on both backends: a temp folder, and a fresh bucket on moto's S3 server.

use std::path::PathBuf;
use std::process::Command;

use atl_core::{LakeConfig, Secret, TripFile, TripKind, ZONES_LAKE_KEY};
use atl_devservices::S3Server;
use atl_lake::object_store::{ObjectStoreExt, PutPayload};
use atl_lake::{InitOutcome, Lake, LakeError, PART_SIZE, PutOutcome, Removal};
use atl_testdata::{TripFileSpec, write_trip_file_to, zone_table_csv};
use tempfile::TempDir;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    File,
    S3,
}

struct TestLake {
    lake: Lake,
    config: LakeConfig,
    dir: TempDir,
    _s3: Option<S3Server>,
}

impl TestLake {
    async fn new(backend: Backend) -> TestLake {
        let dir = tempfile::tempdir().unwrap();
        let (config, s3) = match backend {
            Backend::File => {
                let config = LakeConfig {
                    url: format!("file://{}", dir.path().join("lake").display()),
                    endpoint: String::new(),
                    region: String::new(),
                    access_key: String::new(),
                    secret_key: Secret::default(),
                    allow_http: false,
                };
                (config, None)
            }
            Backend::S3 => {
                let s3 = S3Server::start().expect("moto_server");
                let config = LakeConfig {
                    url: "s3://rawnyc".to_owned(),
                    endpoint: s3.endpoint(),
                    region: s3.region().to_owned(),
                    access_key: s3.access_key().to_owned(),
                    secret_key: Secret::new(s3.secret_key()),
                    allow_http: true,
                };
                (config, Some(s3))
            }
        };
        let lake = Lake::create(&config).unwrap();
        assert_eq!(lake.init().await.unwrap(), InitOutcome::Created);
        TestLake { lake, config, dir, _s3: s3 }
    }

    /// Writes a generated month into a local file and returns it with its row count.
    fn generated(&self, served_as: TripFile, spec: &TripFileSpec) -> (PathBuf, usize) {
        let path = self.dir.path().join("src").join(served_as.file_name());
        let rows = write_trip_file_to(spec, &path).unwrap().rows;
        (path, rows)
    }

    async fn put_bytes(&self, key: &str, bytes: &[u8]) {
        let location = atl_lake::object_store::path::Path::parse(key).unwrap();
        self.lake.store().put(&location, PutPayload::from(bytes.to_vec())).await.unwrap();
    }

    fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_atl-lake"));
        atl_devservices::without_atl_env(&mut command);
        command
            .current_dir(self.dir.path())
            .env("ATL__LAKE__URL", &self.config.url)
            .env("ATL__LAKE__ENDPOINT", &self.config.endpoint)
            .env("ATL__LAKE__REGION", &self.config.region)
            .env("ATL__LAKE__ACCESS_KEY", &self.config.access_key)
            .env("ATL__LAKE__SECRET_KEY", self.config.secret_key.expose())
            .env("ATL__LAKE__ALLOW_HTTP", self.config.allow_http.to_string());
        command
    }
}

fn yellow(month: &str) -> TripFile {
    TripFile::new(TripKind::Yellow, month.parse().unwrap())
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn file() {
                    super::$name(super::Backend::File).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn s3() {
                    super::$name(super::Backend::S3).await
                }
            }
        )*
    };
}

on_both_backends!(
    puts_are_complete_and_idempotent,
    a_big_file_goes_up_in_parts,
    listing_sorts_months_and_reads_footers,
    verify_names_each_corrupt_object,
    rm_by_key_and_by_months,
    the_binary_lists_verifies_and_removes,
);

async fn puts_are_complete_and_idempotent(backend: Backend) {
    let t = TestLake::new(backend).await;
    let file = yellow("2023-01");
    let (path, rows) = t.generated(file, &TripFileSpec::new(file.kind, file.month, 2_000));
    let key = file.lake_key();
    assert_eq!(t.lake.head(&key).await.unwrap(), None);

    let first = t.lake.put_file(&key, &path).await.unwrap();
    let PutOutcome::Written(meta) = &first else { panic!("{first:?}") };
    assert_eq!(meta.size, std::fs::metadata(&path).unwrap().len());
    assert!(path.exists(), "a file outside the staging folder is copied, not moved");
    assert_eq!(t.lake.footer(&key).await.unwrap().rows as usize, rows);

    let second = t.lake.put_file(&key, &path).await.unwrap();
    assert!(matches!(second, PutOutcome::AlreadyPresent(_)), "{second:?}");
    assert_eq!(second.meta().last_modified, meta.last_modified, "an identical object was rewritten");

    // A staged file is moved into a folder lake (same filesystem), copied to S3.
    let staged_dir = t.lake.staging_dir();
    std::fs::create_dir_all(&staged_dir).unwrap();
    let staged = staged_dir.join("zones.part");
    std::fs::write(&staged, zone_table_csv()).unwrap();
    let outcome = t.lake.put_file(ZONES_LAKE_KEY, &staged).await.unwrap();
    assert!(matches!(outcome, PutOutcome::Written(_)), "{outcome:?}");
    assert_eq!(staged.exists(), backend == Backend::S3);
    let stored = t
        .lake
        .store()
        .get(&atl_lake::object_store::path::Path::from(ZONES_LAKE_KEY))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(stored.as_ref(), zone_table_csv().as_bytes());
    if backend == Backend::S3 {
        std::fs::remove_dir_all(&staged_dir).unwrap();
    }

    // A different size replaces the object.
    let (other, _) = t.generated(file, &TripFileSpec::new(file.kind, file.month, 1_000));
    assert!(matches!(t.lake.put_file(&key, &other).await.unwrap(), PutOutcome::Written(_)));
    assert_eq!(t.lake.footer(&key).await.unwrap().rows, 1_000);
}

async fn a_big_file_goes_up_in_parts(backend: Backend) {
    let t = TestLake::new(backend).await;
    let path = t.dir.path().join("big.bin");
    // Two and a half parts of a pattern that is not all zeroes, so a misplaced part shows.
    let bytes: Vec<u8> = (0..PART_SIZE * 5 / 2).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &bytes).unwrap();
    let key = "yellow/2023/yellow_tripdata_2023-09.parquet";
    let outcome = t.lake.put_file(key, &path).await.unwrap();
    assert_eq!(outcome.meta().size, bytes.len() as u64);
    let stored = t
        .lake
        .store()
        .get(&atl_lake::object_store::path::Path::from(key))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(stored.as_ref() == bytes.as_slice(), "the object differs from the file");
    assert!(matches!(t.lake.put_file(key, &path).await.unwrap(), PutOutcome::AlreadyPresent(_)));
}

async fn listing_sorts_months_and_reads_footers(backend: Backend) {
    let t = TestLake::new(backend).await;
    let mut rows = Vec::new();
    for (i, month) in ["2023-03", "2022-12", "2023-01"].iter().enumerate() {
        let file = yellow(month);
        let (path, n) = t.generated(file, &TripFileSpec::new(file.kind, file.month, 1_000 + i * 10));
        t.lake.put_file(&file.lake_key(), &path).await.unwrap();
        rows.push((file, n));
    }
    t.put_bytes(ZONES_LAKE_KEY, zone_table_csv().as_bytes()).await;
    t.put_bytes("yellow/2023/notes.txt", b"not a month").await;
    if let Some(root) = t.lake.local_root() {
        std::fs::create_dir_all(root.join(".staging")).unwrap();
        std::fs::write(root.join(".staging/yellow_tripdata_2023-05.parquet.1-0.part"), b"half").unwrap();
    }

    let months: Vec<String> =
        t.lake.trip_files(TripKind::Yellow).await.unwrap().iter().map(|(f, _)| f.month.to_string()).collect();
    assert_eq!(months, ["2022-12", "2023-01", "2023-03"]);
    assert!(t.lake.trip_files(TripKind::Green).await.unwrap().is_empty());

    let catalog = t.lake.catalog(None).await.unwrap();
    let shown: Vec<(String, Option<u64>)> = catalog
        .iter()
        .map(|e| (e.meta.location.to_string(), e.footer.as_ref().map(|f| f.as_ref().unwrap().rows)))
        .collect();
    let expected_rows = |m: &str| rows.iter().find(|(f, _)| f.month.to_string() == m).unwrap().1 as u64;
    assert_eq!(
        shown,
        [
            (yellow("2022-12").lake_key(), Some(expected_rows("2022-12"))),
            (yellow("2023-01").lake_key(), Some(expected_rows("2023-01"))),
            (yellow("2023-03").lake_key(), Some(expected_rows("2023-03"))),
            (ZONES_LAKE_KEY.to_owned(), None),
        ]
    );
    assert_eq!(t.lake.catalog(Some(TripKind::Yellow)).await.unwrap().len(), 3);
    assert!(t.lake.describe().starts_with(if backend == Backend::S3 {
        "s3://rawnyc at http://"
    } else {
        "file:///"
    }));
    if backend == Backend::S3 {
        assert!(!t.lake.describe().contains(t.config.secret_key.expose()), "{}", t.lake.describe());
    }
}

async fn verify_names_each_corrupt_object(backend: Backend) {
    let t = TestLake::new(backend).await;
    let good = yellow("2023-01");
    let (path, rows) = t.generated(good, &TripFileSpec::new(good.kind, good.month, 1_500));
    t.lake.put_file(&good.lake_key(), &path).await.unwrap();
    let foreign = yellow("2023-02");
    let (path, _) = t.generated(foreign, &TripFileSpec::new(TripKind::Fhv, foreign.month, 500));
    t.lake.put_file(&foreign.lake_key(), &path).await.unwrap();
    t.put_bytes(&yellow("2023-03").lake_key(), b"PAR1 this is not a footer PAR1").await;
    t.put_bytes("yellow/2023/notes.txt", b"stray").await;
    t.put_bytes(ZONES_LAKE_KEY, b"<html>oops</html>").await;

    let checks = t.lake.verify(None).await.unwrap();
    let result =
        |key: &str| &checks.iter().find(|c| c.key == key).unwrap_or_else(|| panic!("{key} unchecked")).result;
    assert_eq!(*result(&good.lake_key()).as_ref().unwrap() as usize, rows);
    assert!(matches!(result(&foreign.lake_key()), Err(LakeError::Schema { .. })), "{checks:#?}");
    assert!(matches!(result(&yellow("2023-03").lake_key()), Err(LakeError::Footer { .. })), "{checks:#?}");
    assert!(matches!(result("yellow/2023/notes.txt"), Err(LakeError::Stray { .. })), "{checks:#?}");
    assert!(matches!(result(ZONES_LAKE_KEY), Err(LakeError::ZoneTable { .. })), "{checks:#?}");
    assert_eq!(checks.len(), 5);
    for check in &checks {
        if let Err(e) = &check.result {
            assert!(e.to_string().contains(&check.key), "the error must name the object: {e}");
        }
    }
    let yellow_only = t.lake.verify(Some(TripKind::Yellow)).await.unwrap();
    assert_eq!(yellow_only.len(), 4, "no zone table check when a kind is asked for");
}

async fn rm_by_key_and_by_months(backend: Backend) {
    let t = TestLake::new(backend).await;
    for month in ["2023-01", "2023-02", "2023-03"] {
        t.put_bytes(&yellow(month).lake_key(), b"x").await;
    }
    let removed = t.lake.remove_months(TripKind::Yellow, "2023-02..2023-04".parse().unwrap()).await.unwrap();
    assert_eq!(
        removed,
        [
            Removal::Removed { key: yellow("2023-02").lake_key(), size: 1 },
            Removal::Removed { key: yellow("2023-03").lake_key(), size: 1 },
            Removal::Absent { key: yellow("2023-04").lake_key() },
        ]
    );
    let removed = t.lake.remove(&[yellow("2023-01").lake_key()]).await.unwrap();
    assert!(matches!(removed[..], [Removal::Removed { .. }]));
    assert!(t.lake.trip_files(TripKind::Yellow).await.unwrap().is_empty());
    assert!(matches!(t.lake.remove(&["../etc/passwd"]).await, Err(LakeError::Key { .. })));
}

async fn the_binary_lists_verifies_and_removes(backend: Backend) {
    let t = TestLake::new(backend).await;
    let good = yellow("2023-01");
    let (path, rows) = t.generated(good, &TripFileSpec::new(good.kind, good.month, 1_200));
    t.lake.put_file(&good.lake_key(), &path).await.unwrap();
    t.put_bytes(ZONES_LAKE_KEY, zone_table_csv().as_bytes()).await;

    let (ok, text) = run(t.command().arg("init"));
    assert!(ok && text.contains("already existed"), "{text}");
    let (ok, text) = run(t.command().arg("ls"));
    assert!(ok, "{text}");
    let line = text.lines().find(|l| l.contains(&good.lake_key())).unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.starts_with("yellow") && line.contains("2023-01") && line.contains(&rows.to_string()),
        "{line}"
    );
    assert!(text.lines().any(|l| l.starts_with("reference") && l.contains(ZONES_LAKE_KEY)), "{text}");
    let (ok, text) = run(t.command().arg("verify"));
    assert!(ok, "{text}");

    let corrupt = yellow("2023-02").lake_key();
    t.put_bytes(&corrupt, b"<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code></Error>").await;
    let output = t.command().arg("verify").output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let line = text.lines().find(|l| l.starts_with("CORRUPT")).unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains(&corrupt), "{line}");
    assert!(text.contains("1 corrupt"), "{text}");

    let (ok, text) = run(t.command().args(["rm", "--kind", "yellow", "--months", "2023-02"]));
    assert!(ok && text.contains(&format!("removed  {corrupt}")), "{text}");
    let (ok, text) = run(t.command().arg("verify"));
    assert!(ok, "{text}");
    let (ok, text) = run(t.command().args(["--lake", "ftp://nowhere", "ls"]));
    assert!(!ok && text.contains("ftp://nowhere"), "{text}");
}

fn run(command: &mut Command) -> (bool, String) {
    let output = command.output().expect("run atl-lake");
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

#[tokio::test]
async fn a_folder_lake_is_created_relative_to_the_current_folder_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("nested/lake");
    let lake = Lake::create_folder(&root).unwrap();
    assert_eq!(lake.init().await.unwrap(), InitOutcome::Created);
    assert!(root.is_dir());
    let again = Lake::open_folder(&root).unwrap();
    assert_eq!(again.init().await.unwrap(), InitOutcome::AlreadyPresent);
    assert_eq!(again.staging_dir(), root.canonicalize().unwrap().join(".staging"));
    assert_eq!(again.local_root(), Some(root.canonicalize().unwrap().as_path()));
}

/// A scheduled job with a typo in lake.url must fail, not report an empty lake every month.
#[test]
fn a_missing_lake_folder_is_an_error_that_names_it_and_only_init_creates_it() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("lakee");
    let url = format!("file://{}", typo.display());
    let config = LakeConfig {
        url: url.clone(),
        endpoint: String::new(),
        region: String::new(),
        access_key: String::new(),
        secret_key: Secret::default(),
        allow_http: false,
    };
    let err = Lake::open(&config).unwrap_err();
    assert!(matches!(&err, LakeError::NoFolder { path } if *path == typo), "{err}");
    assert!(!typo.exists());
    let atl_lake = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_atl-lake"));
        command.current_dir(dir.path()).env("ATL__LAKE__URL", &url).env("RUST_LOG", "warn");
        command
    };
    for args in [&["ls"][..], &["verify"], &["verify", "--kind", "green"], &["rm", "yellow/x.parquet"]] {
        let output = atl_lake().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "atl-lake {args:?}: {stderr}");
        let first = stderr.lines().next().unwrap_or_default();
        assert!(
            first.contains(&typo.display().to_string()) && stderr.contains("does not exist"),
            "atl-lake {args:?}: {stderr}"
        );
        assert!(!typo.exists(), "atl-lake {args:?} created the folder");
    }
    let (ok, text) = run(atl_lake().arg("init"));
    assert!(ok && text.contains("created"), "{text}");
    assert!(typo.is_dir());
    let (ok, text) = run(atl_lake().arg("ls"));
    assert!(ok && text.contains("no objects"), "{text}");
}

#[test]
fn bad_lake_urls_are_named() {
    let mut config = LakeConfig {
        url: "ftp://x".to_owned(),
        endpoint: String::new(),
        region: String::new(),
        access_key: String::new(),
        secret_key: Secret::default(),
        allow_http: false,
    };
    let err = Lake::open(&config).unwrap_err();
    assert!(err.to_string().contains("ftp://x"), "{err}");
    config.url = "s3://bucket/with/prefix".to_owned();
    assert!(matches!(Lake::open(&config), Err(LakeError::Url { .. })));
    config.url = "s3://rawnyc".to_owned();
    // An empty endpoint is an error (a missing override), not a silent AWS.
    let err = Lake::open(&config).unwrap_err();
    assert!(
        matches!(&err, LakeError::Url { .. }) && err.to_string().contains("lake.endpoint is empty"),
        "{err}"
    );
    config.endpoint = "aws".to_owned();
    let lake = Lake::open(&config).unwrap();
    assert_eq!(lake.describe(), "s3://rawnyc at https://s3.us-east-1.amazonaws.com");
    config.region = "eu-west-3".to_owned();
    assert_eq!(Lake::open(&config).unwrap().describe(), "s3://rawnyc at https://s3.eu-west-3.amazonaws.com");
}

/// S3 that cannot be reached: every cause once, one per line, down to the refusal.
#[test]
fn an_unreachable_s3_endpoint_names_each_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let output = Command::new(env!("CARGO_BIN_EXE_atl-lake"))
        .current_dir(dir.path())
        .env("ATL__LAKE__URL", "s3://rawnyc")
        .env("ATL__LAKE__ENDPOINT", format!("http://127.0.0.1:{port}"))
        .env("ATL__LAKE__ALLOW_HTTP", "true")
        .env("RUST_LOG", "error")
        .args(["ls", "--kind", "yellow"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.lines().next().unwrap_or_default().contains("s3://rawnyc"), "{stderr}");
    assert_eq!(stderr.matches("refused").count(), 1, "{stderr}");
    assert_eq!(stderr.matches("error sending request").count(), 1, "{stderr}");
    assert_eq!(stderr.matches("Error performing list request").count(), 1, "{stderr}");
}

/// The built-in S3 keys are the compose stack's, published in this repository: sent anywhere
/// but this machine, they are a mistake worth a warning (once).
#[test]
fn the_built_in_keys_against_a_remote_endpoint_warn_once() {
    let dir = tempfile::tempdir().unwrap();
    let ls = |endpoint: &str| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_atl-lake"));
        atl_devservices::without_atl_env(&mut command);
        let output = command
            .current_dir(dir.path())
            .env("ATL__LAKE__URL", "s3://rawnyc")
            .env("ATL__LAKE__ENDPOINT", endpoint)
            .env("RUST_LOG", "warn")
            .arg("ls")
            .output()
            .unwrap();
        assert!(!output.status.success());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let stderr = ls("http://atl-test.invalid:9000");
    assert_eq!(stderr.matches("built-in defaults").count(), 1, "{stderr}");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let stderr = ls(&format!("http://127.0.0.1:{port}"));
    assert!(!stderr.contains("built-in defaults"), "{stderr}");
}
