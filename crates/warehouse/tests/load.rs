// Over 400 lines: the load's guarantees (exactly once, all or nothing, kill -9, concurrent
// loaders, a dropped connection) each need a server and a lake; one file shares their set-up.
//! Loading months from a lake into a real PostgreSQL server.

mod common;

use atl_devservices::output_text;
use std::process::Command;
use std::time::{Duration, Instant};

use atl_core::{TripFile, TripKind, YearMonth};
use atl_testdata::{Era, TripFileSpec};
use atl_warehouse::{LoadRequest, WarehouseError};
use common::{Stack, rt};

fn request(kind: TripKind) -> LoadRequest {
    LoadRequest::new(kind)
}

#[test]
fn every_era_loads_with_the_lakes_counts_and_sums() {
    let stack = Stack::start();
    let months = [
        ("2018-03", Era::Y2018),
        ("2019-07", Era::Y2019),
        ("2022-05", Era::Y2022),
        ("2024-02", Era::Y2024),
        ("2025-01", Era::Y2025),
    ];
    for kind in [TripKind::Yellow, TripKind::Green] {
        for (month, era) in months {
            stack.put_month(kind, month, era, 4_000);
        }
    }
    let rt = rt();
    for kind in [TripKind::Yellow, TripKind::Green] {
        let report =
            rt.block_on(atl_warehouse::load(&stack.db(), &stack.lake, &request(kind), |_| {})).unwrap();
        assert_eq!(report.loaded().count(), 5, "{:?}", report.failures().collect::<Vec<_>>());
        let audits = rt.block_on(atl_warehouse::audit(&stack.db(), &stack.lake, kind, None)).unwrap();
        assert_eq!(audits.len(), 5);
        for audit in audits {
            assert!(audit.mismatches().is_empty(), "{:?}", audit.mismatches());
            assert_eq!(audit.warehouse_rows, 4_000);
        }
        assert_eq!(stack.count(&format!("raw.{kind}_tripdata")), 20_000);
        let (logged, rows) = stack.load_totals_and_rows(kind);
        assert_eq!(logged, rows, "{kind}: raw.load_totals against the rows loaded");
        assert_eq!(logged.matches(" - 4000 ").count(), 5, "{logged}");
    }
    // Plain SQL, independently of the audit: the money of one month and its lineage.
    let sum: f64 = stack
        .sql("SELECT sum(total_amount) FROM raw.yellow_tripdata WHERE source_month = '2022-05-01'")
        .parse()
        .unwrap();
    let logged: f64 = stack
        .sql("SELECT total_amount_sum FROM raw.load_log WHERE kind = 'yellow' AND month = '2022-05-01'")
        .parse()
        .unwrap();
    assert!((sum - logged).abs() < 1e-6 * sum.abs(), "{sum} vs {logged}");
    assert_eq!(
        stack.sql(
            "SELECT min(source_row), max(source_row), count(DISTINCT source_row), \
             (SELECT object_key FROM raw.load_log WHERE kind = 'green' AND month = '2019-07-01') \
             FROM raw.green_tripdata WHERE source_month = '2019-07-01'"
        ),
        "0|3999|4000|green/2019/green_tripdata_2019-07.parquet"
    );
    // One partition per month.
    assert_eq!(
        stack.sql("SELECT count(*) FROM pg_inherits WHERE inhparent = 'raw.yellow_tripdata'::regclass"),
        "5"
    );
    // Every column of every loaded part keeps coarse planner statistics (RAW_STATISTICS_TARGET).
    assert_eq!(
        stack.sql(
            "SELECT count(DISTINCT c.oid) || ' ' || string_agg(DISTINCT a.attstattarget::text, ',') \
             FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
             WHERE c.relnamespace = 'raw'::regnamespace AND c.relkind = 'r' AND c.relname LIKE 'yellow_tripdata_%'"
        ),
        format!("{} {}", stack.sql("SELECT count(*) FROM pg_class WHERE relnamespace = 'raw'::regnamespace \
             AND relkind = 'r' AND relname LIKE 'yellow_tripdata_%'"), atl_core::raw::RAW_STATISTICS_TARGET)
    );
}

/// The official months we hold are each one row group: the two COPY streams then split it,
/// the second skipping the first's rows.
#[test]
fn a_month_in_one_row_group_is_split_between_the_streams_and_loads_whole() {
    let stack = Stack::start();
    let month: YearMonth = "2022-05".parse().unwrap();
    let spec = TripFileSpec::new(TripKind::Yellow, month, 50_001).era(Era::Y2022).row_group_rows(50_001);
    stack.put_spec(&spec);
    let rt = rt();
    let report = rt
        .block_on(atl_warehouse::load(&stack.db(), &stack.lake, &request(TripKind::Yellow), |_| {}))
        .unwrap();
    assert_eq!(report.loaded().count(), 1, "{:?}", report.failures().collect::<Vec<_>>());
    // Two parts, each a slice of the one row group.
    let parts = stack.sql(
        "SELECT string_agg(format('%s-%s', lo, hi), ' ' ORDER BY lo) FROM (SELECT min(source_row) AS lo, \
         max(source_row) AS hi FROM raw.yellow_tripdata GROUP BY tableoid) p",
    );
    assert_eq!(parts, "0-24999 25000-50000");
    assert_eq!(stack.sql("SELECT count(DISTINCT source_row) FROM raw.yellow_tripdata"), "50001");
    let audits = rt.block_on(atl_warehouse::audit(&stack.db(), &stack.lake, TripKind::Yellow, None)).unwrap();
    assert!(audits[0].mismatches().is_empty(), "{:?}", audits[0].mismatches());
    assert_eq!(audits[0].warehouse_rows, 50_001);
}

#[test]
fn a_rerun_is_a_no_op_and_force_reloads_without_doubling() {
    let stack = Stack::start();
    stack.put_month(TripKind::Yellow, "2023-01", Era::Y2022, 3_000);
    stack.put_month(TripKind::Yellow, "2023-02", Era::Y2022, 2_000);
    let rt = rt();
    let first = rt
        .block_on(atl_warehouse::load(&stack.db(), &stack.lake, &request(TripKind::Yellow), |_| {}))
        .unwrap();
    assert_eq!(first.loaded().count(), 2);
    let log_before = stack.sql("SELECT month, rows, finished_at FROM raw.load_log ORDER BY month");

    let second = rt
        .block_on(atl_warehouse::load(&stack.db(), &stack.lake, &request(TripKind::Yellow), |_| {}))
        .unwrap();
    assert_eq!((second.loaded().count(), second.skipped().count()), (0, 2));
    assert_eq!(stack.sql("SELECT month, rows, finished_at FROM raw.load_log ORDER BY month"), log_before);

    let mut force = request(TripKind::Yellow);
    force.force = true;
    force.months = Some("2023-01".parse().unwrap());
    let third = rt.block_on(atl_warehouse::load(&stack.db(), &stack.lake, &force, |_| {})).unwrap();
    assert_eq!(third.loaded().count(), 1);
    assert_eq!(stack.count("raw.yellow_tripdata"), 5_000);
    assert_ne!(stack.sql("SELECT month, rows, finished_at FROM raw.load_log ORDER BY month"), log_before);
}

#[test]
fn a_changed_object_replaces_its_month() {
    let stack = Stack::start();
    stack.put_month(TripKind::Green, "2023-03", Era::Y2022, 1_000);
    let rt = rt();
    rt.block_on(atl_warehouse::load(&stack.db(), &stack.lake, &request(TripKind::Green), |_| {})).unwrap();
    stack.put_month(TripKind::Green, "2023-03", Era::Y2022, 1_500);
    let report = rt
        .block_on(atl_warehouse::load(&stack.db(), &stack.lake, &request(TripKind::Green), |_| {}))
        .unwrap();
    assert_eq!(report.loaded().count(), 1);
    assert_eq!(stack.count("raw.green_tripdata"), 1_500);
}

#[test]
fn bad_objects_name_the_object_and_leave_the_warehouse_as_it_was() {
    let stack = Stack::start();
    stack.put_month(TripKind::Yellow, "2023-01", Era::Y2022, 2_000);
    let rt = rt();
    rt.block_on(atl_warehouse::load(&stack.db(), &stack.lake, &request(TripKind::Yellow), |_| {})).unwrap();

    // A truncated object in place of the loaded month, and a file of another kind.
    let path = stack.path_of(TripFile::new(TripKind::Yellow, "2023-01".parse().unwrap()));
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let foreign = atl_testdata::TripFileSpec::new(TripKind::Fhv, "2023-02".parse().unwrap(), 100);
    let fhv = stack.put_spec(&foreign);
    common::copy_file(&fhv, &stack.path_of(TripFile::new(TripKind::Yellow, "2023-02".parse().unwrap())));

    let report = rt
        .block_on(atl_warehouse::load(&stack.db(), &stack.lake, &request(TripKind::Yellow), |_| {}))
        .unwrap();
    let failures: Vec<String> = report.failures().map(|(_, e)| e.to_string()).collect();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(failures[0].contains("yellow/2023/yellow_tripdata_2023-01.parquet"), "{}", failures[0]);
    assert!(
        failures[1].contains("yellow_tripdata_2023-02.parquet")
            && failures[1].contains("dispatching_base_num"),
        "{}",
        failures[1]
    );
    assert!(report.failures().any(|(_, e)| matches!(e, WarehouseError::Schema(_))));
    assert_eq!(stack.count("raw.yellow_tripdata"), 2_000);
    assert_eq!(stack.sql("SELECT count(*) FROM raw.load_log"), "1");
    assert_eq!(stack.sql("SELECT count(*) FROM pg_class WHERE relname LIKE '%loading%'"), "0");
}

#[test]
fn reloading_several_months_at_once_does_not_deadlock() {
    let stack = Stack::start();
    for month in ["2023-06", "2023-07", "2023-08"] {
        stack.put_month(TripKind::Yellow, month, Era::Y2022, 20_000);
    }
    let rt = rt();
    rt.block_on(atl_warehouse::load(&stack.db(), &stack.lake, &request(TripKind::Yellow), |_| {})).unwrap();
    let mut force = request(TripKind::Yellow);
    force.force = true;
    force.parallelism = 3;
    let report = rt.block_on(atl_warehouse::load(&stack.db(), &stack.lake, &force, |_| {})).unwrap();
    let failures: Vec<String> = report.failures().map(|(_, e)| e.to_string()).collect();
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(report.loaded().count(), 3);
    assert_eq!(stack.count("raw.yellow_tripdata"), 60_000);
}

#[test]
fn an_empty_object_never_replaces_a_loaded_month() {
    let stack = Stack::start();
    stack.put_month(TripKind::Green, "2023-09", Era::Y2022, 1_000);
    let rt = rt();
    rt.block_on(atl_warehouse::load(&stack.db(), &stack.lake, &request(TripKind::Green), |_| {})).unwrap();
    stack.put_month(TripKind::Green, "2023-09", Era::Y2022, 0);
    let report = rt
        .block_on(atl_warehouse::load(&stack.db(), &stack.lake, &request(TripKind::Green), |_| {}))
        .unwrap();
    let failures: Vec<&WarehouseError> = report.failures().map(|(_, e)| e).collect();
    assert!(matches!(failures[..], [WarehouseError::Empty { .. }]), "{failures:?}");
    assert_eq!(stack.count("raw.green_tripdata"), 1_000);
}

#[test]
fn two_concurrent_loaders_of_one_month_end_with_one_copy() {
    let stack = Stack::start();
    stack.put_month(TripKind::Yellow, "2023-04", Era::Y2022, 30_000);
    let rt = rt();
    let db = stack.db();
    let (a, b) = rt.block_on(async {
        let req = request(TripKind::Yellow);
        tokio::join!(
            atl_warehouse::load(&db, &stack.lake, &req, |_| {}),
            atl_warehouse::load(&db, &stack.lake, &req, |_| {})
        )
    });
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.loaded().count() + b.loaded().count(), 1);
    assert_eq!(a.skipped().count() + b.skipped().count(), 1);
    assert_eq!(stack.count("raw.yellow_tripdata"), 30_000);
}

#[test]
fn kill_9_mid_copy_keeps_the_previous_month_and_the_rerun_loads_once() {
    let stack = Stack::start();
    let month: YearMonth = "2023-05".parse().unwrap();
    stack.put_month(TripKind::Yellow, "2023-05", Era::Y2022, 1_000);
    let run = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_atl-warehouse"));
        command
            .args([
                "--warehouse",
                &stack.pg.url("postgres"),
                "--lake",
                &stack.lake_url(),
                "load",
                "--kind",
                "yellow",
            ])
            .env("RUST_LOG", "warn");
        command
    };
    assert!(run().status().unwrap().success());
    assert_eq!(stack.count("raw.yellow_tripdata"), 1_000);

    // A new, bigger version of the month: the loader starts replacing it, and dies.
    stack.put_month(TripKind::Yellow, "2023-05", Era::Y2022, 1_500_000);
    let mut child = run().spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let copying = stack.sql("SELECT coalesce(sum(tuples_processed), 0) FROM pg_stat_progress_copy");
        if copying.parse::<i64>().unwrap() > 100_000 {
            break;
        }
        assert!(Instant::now() < deadline, "the COPY never started");
        assert!(child.try_wait().unwrap().is_none(), "the loader finished before it could be killed");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // The server notices the dropped connection and rolls the transaction back.
    let deadline = Instant::now() + Duration::from_secs(30);
    while stack.sql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY%'") != "0" {
        assert!(Instant::now() < deadline, "the killed COPY is still running");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(stack.count("raw.yellow_tripdata"), 1_000);
    assert_eq!(stack.sql("SELECT rows FROM raw.load_log"), "1000");

    assert!(run().status().unwrap().success());
    assert_eq!(stack.count("raw.yellow_tripdata"), 1_500_000);
    assert!(run().status().unwrap().success());
    assert_eq!(stack.count("raw.yellow_tripdata"), 1_500_000);
    assert_eq!(
        stack.sql(&format!("SELECT rows FROM raw.load_log WHERE month = '{}'", month.first_day())),
        "1500000"
    );
}

/// `atl-warehouse` run as a scheduler would, on this stack's server and lake.
fn warehouse_command(stack: &Stack, lake_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_atl-warehouse"));
    atl_devservices::without_atl_env(&mut command);
    command
        .current_dir(stack.lake_dir.path())
        .args(["--warehouse", &stack.pg.url("postgres"), "--lake", lake_url])
        .env("RUST_LOG", "warn");
    command
}

#[test]
fn audit_counts_a_loaded_month_whose_object_is_gone_as_a_difference() {
    let stack = Stack::start();
    stack.put_month(TripKind::Yellow, "2022-09", Era::Y2022, 1_200);
    let gone = stack.put_month(TripKind::Yellow, "2022-10", Era::Y2022, 1_300);
    let rt = rt();
    let report = rt
        .block_on(atl_warehouse::load(&stack.db(), &stack.lake, &request(TripKind::Yellow), |_| {}))
        .unwrap();
    assert_eq!(report.loaded().count(), 2);
    std::fs::remove_file(&gone).unwrap();

    let audits = rt.block_on(atl_warehouse::audit(&stack.db(), &stack.lake, TripKind::Yellow, None)).unwrap();
    assert_eq!(audits.len(), 2);
    let missing = audits.iter().find(|a| a.file.month == "2022-10".parse().unwrap()).unwrap();
    assert_eq!(missing.missing_object.as_deref(), Some("yellow/2022/yellow_tripdata_2022-10.parquet"));
    assert_eq!(missing.mismatches().len(), 1);

    let output =
        warehouse_command(&stack, &stack.lake_url()).args(["audit", "--kind", "yellow"]).output().unwrap();
    let text = output_text(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let diff = text.lines().find(|l| l.starts_with("DIFF")).unwrap_or_else(|| panic!("{text}"));
    assert!(
        diff.contains("2022-10") && diff.contains("yellow/2022/yellow_tripdata_2022-10.parquet"),
        "{diff}"
    );
    assert!(text.contains("2 yellow months audited, 1 differ"), "{text}");
    // Only the month asked for: the one still in the lake audits clean.
    let output = warehouse_command(&stack, &stack.lake_url())
        .args(["audit", "--kind", "yellow", "--months", "2022-09"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", output_text(&output));
}

#[test]
fn a_file_of_another_month_is_refused_naming_its_month_unless_allowed() {
    let stack = Stack::start();
    let filed_as = TripFile::new(TripKind::Yellow, "2023-02".parse().unwrap());
    // Loaded first from the right file: the wrong one must leave it as it was.
    stack.put_month(TripKind::Yellow, "2023-02", Era::Y2022, 1_000);
    let rt = rt();
    rt.block_on(atl_warehouse::load(&stack.db(), &stack.lake, &request(TripKind::Yellow), |_| {})).unwrap();
    let wrong = atl_testdata::TripFileSpec::new(TripKind::Yellow, "2024-07".parse().unwrap(), 2_500);
    atl_testdata::write_trip_file_to(&wrong, &stack.path_of(filed_as)).unwrap();

    let report = rt
        .block_on(atl_warehouse::load(&stack.db(), &stack.lake, &request(TripKind::Yellow), |_| {}))
        .unwrap();
    let failures: Vec<&WarehouseError> = report.failures().map(|(_, e)| e).collect();
    assert_eq!(failures.len(), 1, "{failures:?}");
    match failures[0] {
        WarehouseError::WrongMonth { key, source } => {
            assert_eq!(key, "yellow/2023/yellow_tripdata_2023-02.parquet");
            assert_eq!(source.belongs_to, "2024-07".parse().unwrap());
        }
        other => panic!("{other}"),
    }
    assert_eq!(stack.count("raw.yellow_tripdata"), 1_000);

    let output =
        warehouse_command(&stack, &stack.lake_url()).args(["load", "--kind", "yellow"]).output().unwrap();
    let text = output_text(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("belong to 2024-07, not 2023-02"), "{text}");

    let output = warehouse_command(&stack, &stack.lake_url())
        .args(["load", "--kind", "yellow", "--allow-other-month"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", output_text(&output));
    assert_eq!(stack.count("raw.yellow_tripdata"), 2_500);
}

#[test]
fn a_missing_lake_folder_fails_load_and_audit_naming_it() {
    let stack = Stack::start();
    let typo = stack.lake_dir.path().join("no/such/lake");
    let url = format!("file://{}", typo.display());
    for args in [&["load", "--kind", "green"][..], &["audit", "--kind", "green"]] {
        let output = warehouse_command(&stack, &url).args(args).output().unwrap();
        let text = output_text(&output);
        assert_eq!(output.status.code(), Some(1), "{text}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.lines().next().unwrap_or_default();
        assert!(first.contains(&typo.display().to_string()) && first.contains("does not exist"), "{text}");
        assert!(!typo.exists(), "atl-warehouse {args:?} created the folder");
    }
}

#[test]
fn errors_say_each_cause_once_name_the_server_and_no_driver_line_numbers() {
    let stack = Stack::start();
    let status = |warehouse_url: &str| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_atl-warehouse"));
        atl_devservices::without_atl_env(&mut command);
        let output = command
            .current_dir(stack.lake_dir.path())
            .args(["--warehouse", warehouse_url, "status"])
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    // Nothing listens there: the refusal is said once, under the server's (redacted) URL.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let stderr = status(&format!("postgres://atl:hunter2@127.0.0.1:{port}/warehouse"));
    assert_eq!(stderr.matches("refused").count(), 1, "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")) && !stderr.contains("hunter2"), "{stderr}");
    assert!(stderr.lines().all(|l| l.len() < 300), "{stderr}");
    // PostgreSQL's own message, once, without the line of PostgreSQL's C source sqlx appends.
    let stderr = status(&stack.pg.url("nosuchdb"));
    assert_eq!(stderr.matches("database \"nosuchdb\" does not exist").count(), 1, "{stderr}");
    assert!(!stderr.contains(" at line "), "{stderr}");
}

#[test]
fn a_connection_killed_mid_copy_names_the_server() {
    let stack = Stack::start();
    stack.put_month(TripKind::Yellow, "2023-05", Era::Y2022, 1_500_000);
    let rt = rt();
    let db = stack.db();
    let lake = stack.lake.clone();
    let loading = std::thread::spawn(move || {
        rt.block_on(atl_warehouse::load(&db, &lake, &LoadRequest::new(TripKind::Yellow), |_| {})).unwrap()
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let copying = stack.sql("SELECT coalesce(sum(tuples_processed), 0) FROM pg_stat_progress_copy");
        if copying.parse::<i64>().unwrap() > 50_000 {
            break;
        }
        assert!(Instant::now() < deadline, "the COPY never started");
        assert!(!loading.is_finished(), "the load finished before its connection could be killed");
        std::thread::sleep(Duration::from_millis(20));
    }
    stack.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_progress_copy");
    let report = loading.join().unwrap();
    let failures: Vec<String> = report
        .failures()
        .map(|(_, e)| atl_core::ErrorChain::new(e).with_render(atl_core::pg::render_cause).one_line())
        .collect();
    assert_eq!(failures.len(), 1, "{failures:?}");
    let server = stack.db().url.to_string();
    assert!(failures[0].contains(&server), "{} does not name {server}", failures[0]);
    assert!(report.failures().all(|(_, e)| e.is_connection_error()), "{failures:?}");
    assert_eq!(stack.sql("SELECT count(*) FROM raw.load_log"), "0");
}

#[test]
fn a_fragment_of_a_month_is_loaded_with_a_remark() {
    let stack = Stack::start();
    // 8 trips: 8 of February's 28 days at most.
    stack.put_month(TripKind::Yellow, "2023-02", Era::Y2022, 8);
    let output =
        warehouse_command(&stack, &stack.lake_url()).args(["load", "--kind", "yellow"]).output().unwrap();
    let text = output_text(&output);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("yellow_tripdata_2023-02.parquet") && text.contains("a fragment of the month?"),
        "{text}"
    );
    stack.put_month(TripKind::Yellow, "2023-03", Era::Y2022, 3_000);
    let output =
        warehouse_command(&stack, &stack.lake_url()).args(["load", "--kind", "yellow"]).output().unwrap();
    assert!(!output_text(&output).contains("fragment"), "{}", output_text(&output));
}
