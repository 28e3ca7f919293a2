// Over 400 lines: each fault the mirror injects (stall, cut, 403/503, bad files) against both
// lake backends, sharing one mirror and lake set-up.
//! The ingest library against a real HTTP mirror (generated months, fault injection) and
//! both lake backends (a temp folder, and a bucket on moto's S3 server).

mod common;

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use atl_core::{TripFile, TripKind, YearMonth, ZONES_LAKE_KEY, ZONES_SOURCE_PATH};
use atl_devservices::{Fault, TlcMirror};
use atl_ingest::{
    IngestError, NoProgress, Outcome, Progress, find_latest, find_latest_from, ingest_months, ingest_zones,
};
use atl_lake::object_store::ObjectStoreExt;
use atl_testdata::TripFileSpec;
use common::{Backend, Cdn, ROWS, TestLake, yellow};

on_both_backends!(
    a_range_lands_complete_and_a_rerun_transfers_nothing,
    an_unpublished_month_is_reported_and_leaves_no_object,
    an_html_page_is_rejected,
    an_always_truncated_body_fails_after_retries,
    a_truncated_body_and_a_500_are_retried,
    a_500_on_head_is_retried,
    a_slow_response_completes,
    a_stall_beyond_the_timeout_is_retried,
    a_foreign_schema_is_rejected_naming_the_column,
    an_empty_file_is_rejected,
    a_zone_error_page_is_rejected,
    the_zone_shapes_and_indicators_land_verified,
    a_republished_object_of_the_same_size_is_fetched_again,
);

async fn a_range_lands_complete_and_a_rerun_transfers_nothing(backend: Backend) {
    let mut cdn = Cdn::new();
    let months = ["2023-01", "2023-02", "2023-03"];
    for (i, m) in months.iter().enumerate() {
        cdn.add(yellow(m), ROWS + 100 * i);
    }
    let lake = TestLake::new(backend).await;
    let source = cdn.source();

    let report = ingest_months(
        &source,
        &lake.lake,
        TripKind::Yellow,
        "2023-01..2023-03".parse().unwrap(),
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!((report.fetched(), report.failed()), (3, 0), "{report:#?}");
    let zones = ingest_zones(&source, &lake.lake, &NoProgress).await.unwrap();
    assert!(matches!(zones, Outcome::Fetched { rows: 265, .. }), "{zones:?}");

    let files = lake.lake.trip_files(TripKind::Yellow).await.unwrap();
    let listed: Vec<String> = files.iter().map(|(f, _)| f.month.to_string()).collect();
    assert_eq!(listed, months);
    for (file, meta) in &files {
        let served = std::fs::read(cdn.file_path(*file)).unwrap();
        assert_eq!(meta.size, served.len() as u64, "{file}");
        let stored = lake.lake.store().get(&meta.location).await.unwrap().bytes().await.unwrap();
        assert!(stored == served, "{file}: the lake's bytes differ from the source's");
        let footer = lake.lake.footer(&file.lake_key()).await.unwrap();
        assert_eq!(footer.rows as usize, cdn.rows[file], "{file}");
        match report.outcome(*file) {
            Some(Outcome::Fetched { bytes, rows }) => {
                assert_eq!((*bytes, *rows as usize), (meta.size, cdn.rows[file]))
            }
            other => panic!("{file}: {other:?}"),
        }
    }
    assert!(lake.lake.head(ZONES_LAKE_KEY).await.unwrap().is_some());
    assert!(lake.staging_files().is_empty(), "staging left behind: {:?}", lake.staging_files());

    // The second run: HEADs only, no GET, everything already present.
    let gets = |cdn: &Cdn| -> Vec<usize> {
        let mut paths: Vec<String> = months.iter().map(|m| yellow(m).source_path()).collect();
        paths.push(ZONES_SOURCE_PATH.to_owned());
        paths.iter().map(|p| cdn.mirror.gets(p)).collect()
    };
    let before = gets(&cdn);
    assert_eq!(before, [1, 1, 1, 1]);
    let again = ingest_months(
        &source,
        &lake.lake,
        TripKind::Yellow,
        "2023-01..2023-03".parse().unwrap(),
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(again.already_present(), 3, "{again:#?}");
    let zones = ingest_zones(&source, &lake.lake, &NoProgress).await.unwrap();
    assert!(matches!(zones, Outcome::AlreadyPresent { .. }), "{zones:?}");
    assert_eq!(gets(&cdn), before, "a rerun downloaded again");
}

async fn an_unpublished_month_is_reported_and_leaves_no_object(backend: Backend) {
    let mut cdn = Cdn::new();
    cdn.add(yellow("2023-01"), ROWS);
    let lake = TestLake::new(backend).await;
    let report = ingest_months(
        &cdn.source(),
        &lake.lake,
        TripKind::Yellow,
        "2023-01..2023-02".parse().unwrap(),
        &NoProgress,
    )
    .await
    .unwrap();
    assert!(matches!(report.outcome(yellow("2023-01")), Some(Outcome::Fetched { .. })), "{report:#?}");
    assert!(
        matches!(report.outcome(yellow("2023-02")), Some(Outcome::NotPublished { status: 403 })),
        "{report:#?}"
    );
    assert!(!report.has_failures());
    assert_eq!(report.not_published(), 1);
    assert_eq!(
        cdn.mirror.gets(&yellow("2023-02").source_path()),
        0,
        "a 403 HEAD must not be followed by a GET"
    );
    assert_eq!(cdn.mirror.heads(&yellow("2023-02").source_path()), 1, "403 is not retried");
    assert_eq!(lake.keys().await, [yellow("2023-01").lake_key()]);
}

async fn an_html_page_is_rejected(backend: Backend) {
    let mut cdn = Cdn::new();
    let file = yellow("2023-01");
    cdn.add(file, ROWS);
    cdn.mirror.set_fault(
        &file.source_path(),
        Fault::Body {
            content_type: "text/html".to_owned(),
            body: b"<!DOCTYPE html>\n<html><body><h1>Service unavailable</h1></body></html>".to_vec(),
        },
    );
    let lake = TestLake::new(backend).await;
    let outcome = fetch_one(&cdn, &lake, file).await;
    let Outcome::Failed { reason } = &outcome else { panic!("{outcome:?}") };
    assert!(matches!(reason, IngestError::ErrorPage { .. }), "{reason:?}");
    assert!(reason.to_string().contains("HTML/XML error page"), "{reason}");
    assert_nothing_landed(&lake).await;
}

async fn an_always_truncated_body_fails_after_retries(backend: Backend) {
    let mut cdn = Cdn::new();
    let file = yellow("2023-01");
    cdn.add(file, ROWS);
    let size = cdn.size(file);
    cdn.mirror.set_fault(&file.source_path(), Fault::Truncate { at_bytes: size / 2 });
    let lake = TestLake::new(backend).await;
    let outcome = fetch_one(&cdn, &lake, file).await;
    let Outcome::Failed { reason } = &outcome else { panic!("{outcome:?}") };
    assert!(matches!(reason, IngestError::Truncated { .. }), "{reason:?}");
    let text = reason.to_string();
    assert!(text.contains(&format!("truncated body (got {} of {size} bytes)", size / 2)), "{text}");
    assert_eq!(cdn.mirror.gets(&file.source_path()), cdn.source().retries as usize, "every attempt was used");
    assert_nothing_landed(&lake).await;
}

async fn a_truncated_body_and_a_500_are_retried(backend: Backend) {
    let mut cdn = Cdn::new();
    let file = yellow("2023-01");
    cdn.add(file, ROWS);
    let path = file.source_path();
    cdn.mirror.set_fault(&path, Fault::Truncate { at_bytes: cdn.size(file) / 3 });
    let lake = TestLake::new(backend).await;
    // GET 1 is cut short; before GET 2 the mirror turns to a 500; GET 3 is served whole.
    let mirror: &TlcMirror = &cdn.mirror;
    let script = Script::new(vec![
        Box::new(|| mirror.set_fault(&path, Fault::Status { code: 500, times: 1 })),
        Box::new(|| {}),
    ]);
    let report = ingest_months(
        &cdn.source(),
        &lake.lake,
        TripKind::Yellow,
        atl_core::MonthRange::single(file.month),
        &script,
    )
    .await
    .unwrap();
    assert!(matches!(report.outcome(file), Some(Outcome::Fetched { .. })), "{report:#?}");
    assert_eq!(cdn.mirror.gets(&path), 3);
    let errors = script.errors();
    assert!(errors[0].contains("truncated body"), "{errors:?}");
    assert!(errors[1].contains("HTTP 500"), "{errors:?}");
    assert_eq!(lake.lake.footer(&file.lake_key()).await.unwrap().rows as usize, ROWS);
}

async fn a_500_on_head_is_retried(backend: Backend) {
    let mut cdn = Cdn::new();
    let file = yellow("2023-01");
    cdn.add(file, ROWS);
    cdn.mirror.set_fault(&file.source_path(), Fault::Status { code: 503, times: 2 });
    let lake = TestLake::new(backend).await;
    let outcome = fetch_one(&cdn, &lake, file).await;
    assert!(matches!(outcome, Outcome::Fetched { .. }), "{outcome:?}");
    assert_eq!(cdn.mirror.heads(&file.source_path()), 3);
}

async fn a_slow_response_completes(backend: Backend) {
    let mut cdn = Cdn::new();
    let file = yellow("2023-01");
    cdn.add(file, 40_000);
    let size = cdn.size(file);
    // About 1.5 s at this rate, with a 2 s stall timeout: slow is not stalled.
    cdn.mirror.set_fault(&file.source_path(), Fault::Slow { bytes_per_sec: size * 2 / 3 });
    let lake = TestLake::new(backend).await;
    let started = Instant::now();
    let outcome = fetch_one(&cdn, &lake, file).await;
    assert!(matches!(outcome, Outcome::Fetched { .. }), "{outcome:?}");
    assert!(
        started.elapsed() > Duration::from_millis(1200),
        "the fault did not slow it: {:?}",
        started.elapsed()
    );
    assert_eq!(cdn.mirror.gets(&file.source_path()), 1, "a slow download must not be restarted");
}

async fn a_stall_beyond_the_timeout_is_retried(backend: Backend) {
    let mut cdn = Cdn::new();
    let file = yellow("2023-01");
    cdn.add(file, ROWS);
    // The first GET goes silent half-way for longer than the test may take; the retry is
    // served whole.
    let path = file.source_path();
    let stall = Fault::Stall { at_bytes: cdn.size(file) / 2, pause: Duration::from_secs(6), times: 1 };
    cdn.mirror.set_fault(&path, stall);
    let mut source = cdn.source();
    source.timeout_secs = 1;
    let lake = TestLake::new(backend).await;
    let script = Script::new(vec![Box::new(|| {})]);
    let started = Instant::now();
    let report = ingest_months(
        &source,
        &lake.lake,
        TripKind::Yellow,
        atl_core::MonthRange::single(file.month),
        &script,
    )
    .await
    .unwrap();
    assert!(matches!(report.outcome(file), Some(Outcome::Fetched { .. })), "{report:#?}");
    assert_eq!((cdn.mirror.heads(&path), cdn.mirror.gets(&path)), (1, 2));
    assert!(script.errors()[0].contains("stalled"), "{:?}", script.errors());
    assert!(started.elapsed() < Duration::from_secs(5), "the stall was waited out: {:?}", started.elapsed());
    assert_eq!(lake.lake.footer(&file.lake_key()).await.unwrap().rows as usize, ROWS);
}

async fn a_foreign_schema_is_rejected_naming_the_column(backend: Backend) {
    let mut cdn = Cdn::new();
    let file = yellow("2023-01");
    cdn.add_as(file, &TripFileSpec::new(TripKind::Fhv, file.month, ROWS));
    let lake = TestLake::new(backend).await;
    let outcome = fetch_one(&cdn, &lake, file).await;
    let Outcome::Failed { reason } = &outcome else { panic!("{outcome:?}") };
    assert!(matches!(reason, IngestError::ForeignSchema { .. }), "{reason:?}");
    let text = reason.to_string();
    assert!(text.contains("foreign schema") && text.contains("dispatching_base_num"), "{text}");
    assert_eq!(cdn.mirror.gets(&file.source_path()), 1, "a rejected file is not downloaded again");
    assert_nothing_landed(&lake).await;
}

async fn an_empty_file_is_rejected(backend: Backend) {
    let mut cdn = Cdn::new();
    let file = yellow("2023-01");
    cdn.add(file, 0);
    let lake = TestLake::new(backend).await;
    let outcome = fetch_one(&cdn, &lake, file).await;
    let Outcome::Failed { reason } = &outcome else { panic!("{outcome:?}") };
    assert!(reason.to_string().contains("holds no rows"), "{reason}");
    assert_nothing_landed(&lake).await;
}

async fn a_zone_error_page_is_rejected(backend: Backend) {
    let cdn = Cdn::new();
    cdn.mirror.set_fault(
        ZONES_SOURCE_PATH,
        Fault::Body {
            content_type: "application/xml".to_owned(),
            body: atl_devservices::ACCESS_DENIED_XML.into(),
        },
    );
    let lake = TestLake::new(backend).await;
    let outcome = ingest_zones(&cdn.source(), &lake.lake, &NoProgress).await.unwrap();
    let Outcome::Failed { reason } = &outcome else { panic!("{outcome:?}") };
    assert!(reason.to_string().contains("HTML/XML error page"), "{reason}");
    assert_nothing_landed(&lake).await;

    cdn.mirror.clear_fault(ZONES_SOURCE_PATH);
    std::fs::write(cdn.dir.path().join(ZONES_SOURCE_PATH), "id,name\n1,x\n").unwrap();
    let outcome = ingest_zones(&cdn.source(), &lake.lake, &NoProgress).await.unwrap();
    let Outcome::Failed { reason } = &outcome else { panic!("{outcome:?}") };
    assert!(matches!(reason, IngestError::NotZoneTable { .. }), "{reason:?}");
    assert_nothing_landed(&lake).await;
}

async fn the_zone_shapes_and_indicators_land_verified(backend: Backend) {
    use atl_core::{INDICATORS_LAKE_KEY, ZONE_SHAPES_LAKE_KEY, ZONE_SHAPES_SOURCE_PATH};
    use atl_testdata::reference::{IndicatorRow, ZONE_SHAPES, indicators_csv, zone_shapes_zip};
    let cdn = Cdn::new();
    let lake = TestLake::new(backend).await;
    let source = cdn.source();
    let indicators_path = cdn.dir.path().join("reports/data_reports_monthly.csv");
    std::fs::create_dir_all(indicators_path.parent().unwrap()).unwrap();

    // A zip that is not a shapefile archive, and a CSV without the indicator columns: refused.
    std::fs::write(cdn.dir.path().join(ZONE_SHAPES_SOURCE_PATH), b"PK\x03\x04 not a zip").unwrap();
    std::fs::write(&indicators_path, "Month,Class\r\n2024-01,Green\r\n").unwrap();
    let outcome = atl_ingest::ingest_zone_shapes(&source, &lake.lake, &NoProgress).await.unwrap();
    let Outcome::Failed { reason } = &outcome else { panic!("{outcome:?}") };
    assert!(reason.to_string().contains("zone shapefile"), "{reason}");
    let outcome = atl_ingest::ingest_indicators(&source, &lake.lake, &NoProgress).await.unwrap();
    let Outcome::Failed { reason } = &outcome else { panic!("{outcome:?}") };
    assert!(reason.to_string().contains("Month/Year"), "{reason}");
    assert_nothing_landed(&lake).await;

    // The real formats land, byte for byte, with their record and row counts.
    let zip = zone_shapes_zip();
    std::fs::write(cdn.dir.path().join(ZONE_SHAPES_SOURCE_PATH), &zip).unwrap();
    let rows = [IndicatorRow {
        month: "2024-01".parse().unwrap(),
        licence_class: "Green",
        trips_per_day: 1824.0,
        farebox_per_day: Some(37028.0),
    }];
    let csv = indicators_csv(&rows, false);
    std::fs::write(&indicators_path, &csv).unwrap();
    let outcome = atl_ingest::ingest_zone_shapes(&source, &lake.lake, &NoProgress).await.unwrap();
    assert!(matches!(outcome, Outcome::Fetched { rows, .. } if rows == ZONE_SHAPES as u64), "{outcome:?}");
    let outcome = atl_ingest::ingest_indicators(&source, &lake.lake, &NoProgress).await.unwrap();
    assert!(matches!(outcome, Outcome::Fetched { rows: 1, .. }), "{outcome:?}");
    let read = |key: &'static str| {
        let store = lake.lake.store();
        async move {
            use atl_lake::object_store::ObjectStoreExt;
            let path = atl_lake::object_store::path::Path::from(key);
            store.get(&path).await.unwrap().bytes().await.unwrap().to_vec()
        }
    };
    assert_eq!(read(ZONE_SHAPES_LAKE_KEY).await, zip);
    assert_eq!(read(INDICATORS_LAKE_KEY).await, csv.as_bytes());
    // A second run finds both there.
    let again = atl_ingest::ingest_zone_shapes(&source, &lake.lake, &NoProgress).await.unwrap();
    assert!(matches!(again, Outcome::AlreadyPresent { .. }), "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_latest_month_is_the_newest_served() {
    let mut cdn = Cdn::new();
    let newest = YearMonth::current().prev().prev();
    cdn.add(TripFile::new(TripKind::Yellow, newest), ROWS);
    cdn.add(TripFile::new(TripKind::Yellow, newest.prev()), ROWS);
    let source = cdn.source();
    assert_eq!(find_latest(&source, TripKind::Yellow).await.unwrap(), Some(newest));
    for later in [YearMonth::current(), YearMonth::current().prev()] {
        let path = TripFile::new(TripKind::Yellow, later).source_path();
        assert_eq!((cdn.mirror.heads(&path), cdn.mirror.gets(&path)), (1, 0), "{later} probed once, by HEAD");
    }
    assert_eq!(
        cdn.mirror.heads(&TripFile::new(TripKind::Yellow, newest.prev()).source_path()),
        0,
        "stops at the first hit"
    );
    assert_eq!(find_latest_from(&source, TripKind::Green, YearMonth::current(), 6).await.unwrap(), None);
    assert_eq!(
        find_latest_from(&source, TripKind::Yellow, newest.prev(), 3).await.unwrap(),
        Some(newest.prev())
    );
}

/// Fetches one month with default settings.
async fn fetch_one(cdn: &Cdn, lake: &TestLake, file: TripFile) -> Outcome {
    let mut report = ingest_months(
        &cdn.source(),
        &lake.lake,
        file.kind,
        atl_core::MonthRange::single(file.month),
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(report.months.len(), 1);
    report.months.remove(0).outcome
}

async fn assert_nothing_landed(lake: &TestLake) {
    assert_eq!(lake.keys().await, Vec::<String>::new(), "a rejected file reached the lake");
    assert!(lake.staging_files().is_empty(), "staging left behind: {:?}", lake.staging_files());
}

/// A [`Progress`] that runs the next scripted action at each retry and records the errors.
struct Script<'a> {
    actions: Mutex<VecDeque<Box<dyn FnOnce() + Send + 'a>>>,
    errors: Mutex<Vec<String>>,
}

impl<'a> Script<'a> {
    fn new(actions: Vec<Box<dyn FnOnce() + Send + 'a>>) -> Script<'a> {
        Script { actions: Mutex::new(actions.into()), errors: Mutex::default() }
    }

    fn errors(&self) -> Vec<String> {
        self.errors.lock().unwrap().clone()
    }
}

impl Progress for Script<'_> {
    fn retrying(&self, _label: &str, _attempt: u32, error: &IngestError, _delay: Duration) {
        self.errors.lock().unwrap().push(error.to_string());
        let action = self.actions.lock().unwrap().pop_front().expect("more retries than scripted");
        action();
    }
}

/// The zone table republished with the same length (one borough's case changed): the size
/// matches the lake's copy, the source's ETag does not, so it is fetched again; then the
/// record matches and nothing is fetched. An object the lake holds without a record (an older
/// release's) is adopted: nothing is downloaded, its source's ETag is recorded.
async fn a_republished_object_of_the_same_size_is_fetched_again(backend: Backend) {
    let cdn = Cdn::new();
    let lake = TestLake::new(backend).await;
    let source = cdn.source();
    let fetched = |o: &Outcome| matches!(o, Outcome::Fetched { rows: 265, .. });
    assert!(fetched(&ingest_zones(&source, &lake.lake, &NoProgress).await.unwrap()));

    let path = cdn.dir.path().join(atl_core::ZONES_SOURCE_PATH);
    let original = std::fs::read_to_string(&path).unwrap();
    let republished = original.replacen("\"Queens\"", "\"QUEENS\"", 1);
    assert_eq!((republished.len(), republished != original), (original.len(), true));
    std::fs::write(&path, &republished).unwrap();
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options().write(true).open(&path).unwrap().set_modified(later).unwrap();

    let again = ingest_zones(&source, &lake.lake, &NoProgress).await.unwrap();
    assert!(fetched(&again), "{again:?}");
    let meta = lake.lake.head(ZONES_LAKE_KEY).await.unwrap().unwrap();
    let stored = lake.lake.store().get(&meta.location).await.unwrap().bytes().await.unwrap();
    assert!(stored == republished.as_bytes(), "the lake still holds the old table");
    let third = ingest_zones(&source, &lake.lake, &NoProgress).await.unwrap();
    assert!(matches!(third, Outcome::AlreadyPresent { .. }), "{third:?}");

    // An older release's copy: right size, no record.
    let file = yellow("2023-05");
    let mut cdn = cdn;
    cdn.add(file, ROWS);
    let staged = tempfile::NamedTempFile::new().unwrap();
    std::fs::copy(cdn.file_path(file), staged.path()).unwrap();
    lake.lake.put_file(&file.lake_key(), staged.path()).await.unwrap();
    assert_eq!(lake.lake.source_etag(&file.lake_key()).await.unwrap(), None);
    let outcome = fetch_one(&cdn, &lake, file).await;
    assert!(matches!(outcome, Outcome::AlreadyPresent { .. }), "{outcome:?}");
    assert!(lake.lake.source_etag(&file.lake_key()).await.unwrap().is_some(), "adopted without a record");
}
