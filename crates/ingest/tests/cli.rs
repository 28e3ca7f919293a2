//! The `atl-ingest` binary: exit codes, `--latest`, and a download killed with -9.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use atl_core::{TripFile, TripKind, YearMonth, ZONES_LAKE_KEY};
use atl_devservices::Fault;
use atl_testdata::TripFileSpec;
use common::{Backend, Cdn, ROWS, TestLake, month, yellow};

on_both_backends!(a_killed_download_leaves_no_object_and_the_rerun_completes);

/// `atl-ingest` pointed at the mirror and the lake by ATL__ variables, as Airflow runs it.
fn ingest_command(cdn: &Cdn, lake: &TestLake) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_atl-ingest"));
    atl_devservices::without_atl_env(&mut command);
    command
        // No atl.toml there: only the defaults and the variables below apply.
        .current_dir(lake.dir.path())
        .env("ATL__SOURCE__BASE_URL", cdn.mirror.base_url())
        .env("ATL__SOURCE__RETRIES", "2")
        .env("ATL__SOURCE__TIMEOUT_SECS", "5")
        .env("RUST_LOG", "info")
        .envs(lake.env());
    command
}

fn run(command: &mut Command) -> (Output, String) {
    let output = command.output().expect("run atl-ingest");
    let text = format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output, text)
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

async fn a_killed_download_leaves_no_object_and_the_rerun_completes(backend: Backend) {
    let mut cdn = Cdn::new();
    let file = yellow("2023-01");
    cdn.add(file, 100_000);
    let size = cdn.size(file);
    cdn.mirror.set_fault(&file.source_path(), Fault::Slow { bytes_per_sec: 1 << 20 });
    let lake = TestLake::new(backend).await;

    let mut child = ingest_command(&cdn, &lake)
        .args(["--kind", "yellow", "--months", "2023-01"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn atl-ingest");
    let started = Instant::now();
    loop {
        if lake.staging_files().iter().any(|p| file_len(p) > 256 * 1024) {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("atl-ingest ended before it could be killed: {status}");
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the staging file never grew");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("kill -9"); // SIGKILL on Unix
    child.wait().unwrap();

    assert_eq!(lake.keys().await, Vec::<String>::new(), "a killed download left an object");
    let stale = lake.staging_files();
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert!(file_len(&stale[0]) < size);

    cdn.mirror.clear_fault(&file.source_path());
    let (output, text) = run(ingest_command(&cdn, &lake).args(["--kind", "yellow", "--months", "2023-01"]));
    assert!(output.status.success(), "{text}");
    let meta = lake.lake.head(&file.lake_key()).await.unwrap().expect("the rerun stored the month");
    assert_eq!(meta.size, size);
    assert_eq!(lake.lake.footer(&file.lake_key()).await.unwrap().rows, 100_000);
    assert!(
        lake.staging_files().is_empty(),
        "the stale staging file was not removed: {:?}",
        lake.staging_files()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_and_zones_from_the_command_line() {
    let mut cdn = Cdn::new();
    let newest = YearMonth::current().prev().prev();
    cdn.add(TripFile::new(TripKind::Yellow, newest), ROWS);
    cdn.add(TripFile::new(TripKind::Yellow, newest.prev()), ROWS);
    let lake = TestLake::new(Backend::File).await;
    let (output, text) = run(ingest_command(&cdn, &lake).args(["--latest", "--zones"]));
    assert!(output.status.success(), "{text}");
    assert!(text.contains("1 fetched"), "{text}");
    let mut expected = vec![TripFile::new(TripKind::Yellow, newest).lake_key(), ZONES_LAKE_KEY.to_owned()];
    expected.sort();
    assert_eq!(lake.keys().await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unpublished_months_exit_0_and_failures_exit_1() {
    let mut cdn = Cdn::new();
    cdn.add(yellow("2023-01"), ROWS);
    let lake = TestLake::new(Backend::File).await;
    let (output, text) = run(ingest_command(&cdn, &lake).args(["--months", "2023-01..2023-02"]));
    assert!(output.status.success(), "{text}");
    assert!(text.contains("1 fetched, 0 already present, 1 not published, 0 failed"), "{text}");
    assert!(text.contains("not published yet by the TLC (not an error): 2023-02"), "{text}");
    // A scheduler asking for a month that is not out yet gets a distinct status to retry on.
    let this_month = YearMonth::current().to_string();
    let (output, text) =
        run(ingest_command(&cdn, &lake).args(["--months", &this_month, "--require-published"]));
    assert_eq!(output.status.code(), Some(3), "{text}");
    // Nothing of a range long past: more likely a wrong address than a late TLC.
    let (output, text) = run(ingest_command(&cdn, &lake).args(["--months", "2023-02"]));
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("is source.base_url right?"), "{text}");
    let (output, text) =
        run(ingest_command(&cdn, &lake).args(["--months", "2023-01", "--require-published"]));
    assert!(output.status.success(), "{text}");

    cdn.add(yellow("2023-03"), ROWS);
    cdn.mirror.set_fault(
        &yellow("2023-03").source_path(),
        Fault::Body { content_type: "text/html".into(), body: b"<html>Maintenance</html>".to_vec() },
    );
    let (output, text) =
        run(ingest_command(&cdn, &lake).args(["--kind", "yellow", "--months", "2023-01..2023-03"]));
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("1 already present, 1 not published, 1 failed"), "{text}");
    assert!(text.contains("FAILED") && text.contains("HTML/XML error page"), "{text}");
}

/// A mirror serving 2025-02 under 2023-02's name: the file never enters the lake as 2023-02,
/// and the message names the month its rows belong to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_of_another_month_is_refused_naming_its_month_unless_allowed() {
    let mut cdn = Cdn::new();
    let filed_as = yellow("2023-02");
    cdn.add_as(filed_as, &TripFileSpec::new(TripKind::Yellow, "2022-11".parse().unwrap(), 3_000));
    cdn.add(yellow("2023-03"), ROWS);
    let lake = TestLake::new(Backend::File).await;
    let (output, text) = run(ingest_command(&cdn, &lake).args(["--months", "2023-02..2023-03"]));
    assert_eq!(output.status.code(), Some(1), "{text}");
    let line = text.lines().find(|l| l.contains("FAILED")).unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("2022-11") && line.contains("not 2023-02"), "{line}");
    assert_eq!(lake.keys().await, vec![yellow("2023-03").lake_key()], "{text}");

    let (output, text) =
        run(ingest_command(&cdn, &lake).args(["--months", "2023-02", "--allow-other-month"]));
    assert!(output.status.success(), "{text}");
    assert!(lake.lake.head(&filed_as.lake_key()).await.unwrap().is_some(), "{text}");
}

/// The first ingest into a new folder creates it and says so; later runs say nothing of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_creates_a_missing_lake_folder_and_says_so_once() {
    let mut cdn = Cdn::new();
    cdn.add(yellow("2023-01"), ROWS);
    let lake = TestLake::new(Backend::File).await;
    let fresh = lake.dir.path().join("new/lake");
    let url = format!("file://{}", fresh.display());
    let (output, text) =
        run(ingest_command(&cdn, &lake).env("ATL__LAKE__URL", &url).args(["--months", "2023-01"]));
    assert!(output.status.success(), "{text}");
    assert_eq!(text.matches("created the lake").count(), 1, "{text}");
    assert!(fresh.join(yellow("2023-01").lake_key()).is_file(), "{text}");
    let (output, text) =
        run(ingest_command(&cdn, &lake).env("ATL__LAKE__URL", &url).args(["--months", "2023-01"]));
    assert!(output.status.success() && !text.contains("created"), "{text}");
}

/// An unreachable source says why (here: refused), not only "error sending request".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_source_names_the_cause() {
    let cdn = Cdn::new();
    let lake = TestLake::new(Backend::File).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (output, text) = run(ingest_command(&cdn, &lake)
        .env("ATL__SOURCE__BASE_URL", format!("http://127.0.0.1:{port}"))
        .args(["--months", "2023-01"]));
    assert_eq!(output.status.code(), Some(1), "{text}");
    let line = text.lines().find(|l| l.contains("FAILED")).unwrap_or_else(|| panic!("{text}"));
    assert!(line.to_lowercase().contains("refused"), "{line}");
}

/// `--kind all` tries every kind: a mirror with green and fhvhv but no yellow or fhv
/// fetches those two, names the kinds it found nothing of, and exits 1 for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kind_all_tries_every_kind_and_reports_each() {
    let mut cdn = Cdn::new();
    let green = TripFile::new(TripKind::Green, month("2023-01"));
    let fhvhv = TripFile::new(TripKind::Fhvhv, month("2023-01"));
    cdn.add(green, ROWS).add(fhvhv, ROWS);
    let lake = TestLake::new(Backend::File).await;
    let (output, text) = run(ingest_command(&cdn, &lake).args(["--kind", "all", "--months", "2023-01"]));
    assert_eq!(output.status.code(), Some(1), "{text}");
    for kind in ["yellow", "fhv"] {
        assert!(text.contains(&format!("none of {kind} 2023-01 is at ")), "{kind}: {text}");
    }
    assert_eq!(text.matches("1 fetched, 0 already present").count(), 2, "{text}");
    let mut expected = vec![green.lake_key(), fhvhv.lake_key()];
    expected.sort();
    assert_eq!(lake.keys().await, expected);
}

/// A failed refresh of an optional reference file (the TLC's indicators host down) keeps
/// the lake's copy, says so on one line, and the months are fetched all the same; the zone
/// table is required only while the lake has no copy of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_optional_source_down_never_stops_the_months() {
    let mut cdn = Cdn::new();
    cdn.add(yellow("2023-01"), ROWS);
    let lake = TestLake::new(Backend::File).await;
    let refused = format!(
        "http://127.0.0.1:{}/data_reports_monthly.csv",
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    );
    // The zone table answers 503 and the lake has none: that fails the run, the month is
    // fetched all the same.
    cdn.mirror.set_fault(atl_core::ZONES_SOURCE_PATH, Fault::Status { code: 503, times: 1000 });
    let (output, text) = run(ingest_command(&cdn, &lake)
        .env("ATL__SOURCE__INDICATORS_URL", &refused)
        .args(["--zones", "--indicators", "--months", "2023-01"]));
    assert_eq!(output.status.code(), Some(1), "{text}");
    let line = |label: &str| {
        text.lines().find(|l| l.starts_with(label)).unwrap_or_else(|| panic!("{text}")).to_owned()
    };
    assert!(
        line("taxi zones").contains("FAILED")
            && line("taxi zones").contains("the mart cannot build without it"),
        "{text}"
    );
    assert!(
        line("TLC indicators").contains("NOT REFRESHED")
            && line("TLC indicators").contains("the dashboard shows no TLC figures"),
        "{text}"
    );
    assert!(lake.lake.head(&yellow("2023-01").lake_key()).await.unwrap().is_some(), "{text}");

    // With a copy of each in the lake, the same outage only warns, and the run succeeds.
    cdn.mirror.clear_fault(atl_core::ZONES_SOURCE_PATH);
    let (output, text) = run(ingest_command(&cdn, &lake).args(["--zones"]));
    assert!(output.status.success(), "{text}");
    let indicators = lake.dir.path().join("lake").join(atl_core::INDICATORS_LAKE_KEY);
    std::fs::write(
        &indicators,
        std::fs::read(atl_testdata::real::path(atl_testdata::real::INDICATORS)).unwrap(),
    )
    .unwrap();
    cdn.mirror.set_fault(atl_core::ZONES_SOURCE_PATH, Fault::Status { code: 503, times: 1000 });
    let (output, text) = run(ingest_command(&cdn, &lake)
        .env("ATL__SOURCE__INDICATORS_URL", &refused)
        .args(["--zones", "--indicators", "--months", "2023-01"]));
    assert!(output.status.success(), "{text}");
    let line = |label: &str| {
        text.lines().find(|l| l.starts_with(label)).unwrap_or_else(|| panic!("{text}")).to_owned()
    };
    for label in ["taxi zones", "TLC indicators"] {
        assert!(
            line(label).contains("NOT REFRESHED") && line(label).contains("the lake keeps its copy of "),
            "{text}"
        );
    }
    assert!(line("TLC indicators").to_lowercase().contains("refused"), "{text}");
    assert_eq!(
        std::fs::read(&indicators).unwrap(),
        std::fs::read(atl_testdata::real::path(atl_testdata::real::INDICATORS)).unwrap()
    );

    // Reference files alone, none refreshed: nothing was done, so not a success.
    let (output, text) =
        run(ingest_command(&cdn, &lake).env("ATL__SOURCE__INDICATORS_URL", &refused).args(["--indicators"]));
    assert_eq!(output.status.code(), Some(1), "{text}");
}
