// Over 400 lines: the build's guarantees (accounting, kill -9, concurrent runs, dimension keys)
// each need both servers and a loaded warehouse; one file shares their set-up.
//! Building the mart on a second real PostgreSQL server from a warehouse filled from a lake of
//! generated months.

use atl_devservices::output_text;
use std::process::Command;
use std::time::{Duration, Instant};

use atl_core::{TripFile, TripKind};
use atl_mart::{BuildRequest, MoneyCount, ReferenceStatus, ZoneSource};
use atl_testdata::{Era, TripFileSpec, write_trip_file_to};
use atl_warehouse::LoadRequest;

mod common;
use common::Stack;

fn service_id(kind: TripKind) -> i32 {
    match kind {
        TripKind::Yellow => 1,
        _ => 2,
    }
}

/// The cleaning rules of insertion.sql, restated over the warehouse's own columns: each
/// month's rows per reason (the clean ones under '-').
fn warehouse_reasons(stack: &Stack, kind: TripKind, month: &str) -> String {
    let pickup = atl_core::schema::pickup_column(kind).unwrap();
    let dropoff = atl_core::schema::dropoff_column(kind).unwrap();
    // Every money column of the kind, as core declares them.
    let money: Vec<&str> = atl_core::schema::canonical_columns(kind)
        .unwrap()
        .iter()
        .filter(|c| c.kind == atl_core::schema::ColumnType::Money)
        .map(|c| c.name)
        .collect();
    let money = money.join(", ");
    stack.wh(&format!(
        "SELECT string_agg(reason || '=' || n, ',' ORDER BY reason) FROM ( \
           SELECT reason, count(*) AS n FROM ( \
             SELECT CASE \
               WHEN {pickup} IS NULL OR {dropoff} IS NULL THEN 'timestamp_missing' \
               WHEN date_trunc('month', {pickup}) <> source_month THEN 'pickup_outside_month' \
               WHEN {dropoff} <= {pickup} THEN 'dropoff_not_after_pickup' \
               WHEN {dropoff} - {pickup} > interval '1 day' THEN 'trip_over_24h' \
               WHEN coalesce(pulocationid NOT BETWEEN 1 AND 265 OR dolocationid NOT BETWEEN 1 AND 265, true) THEN 'zone_unknown' \
               WHEN coalesce(round(trip_distance::numeric, 2) <= 0, true) THEN 'distance_not_positive' \
               WHEN trip_distance > 500 THEN 'distance_over_500mi' \
               WHEN fare_amount IS NULL OR total_amount IS NULL THEN 'amount_missing' \
               WHEN fare_amount < 0 OR total_amount < 0 THEN 'amount_negative' \
               WHEN EXISTS (SELECT 1 FROM unnest(ARRAY[{money}]) a \
                      WHERE abs(a) > 10000) THEN 'amount_over_10000' \
               ELSE '-' END AS reason \
             FROM {raw} WHERE source_month = '{month}-01') r GROUP BY reason) c",
        raw = atl_core::RawTable::new(kind).unwrap().parent()
    ))
}

fn mart_reasons(stack: &Stack, kind: TripKind, month: &str) -> String {
    let month_id = month.replace('-', "");
    let sid = service_id(kind);
    stack.mart_sql(&format!(
        "SELECT string_agg(reason || '=' || n, ',' ORDER BY reason) FROM ( \
           SELECT reason, rows AS n FROM mart.rejects WHERE service_id = {sid} AND month_id = {month_id} \
           UNION ALL SELECT '-', count(*) FROM mart.fact_trip WHERE service_id = {sid} \
             AND pickup_at >= '{month}-01' AND pickup_at < '{month}-01'::date + interval '1 month' \
             HAVING count(*) > 0) c"
    ))
}

/// Warehouse rows and money = fact + rejected, computed independently on both servers.
fn assert_accounted(stack: &Stack, kind: TripKind, month: &str) {
    let month_id = month.replace('-', "");
    let sid = service_id(kind);
    let warehouse = stack.wh(&format!(
        "SELECT count(*) || ' ' || coalesce(sum(round(total_amount::numeric, 2)), 0)::numeric(20,2) \
         FROM raw.{kind}_tripdata WHERE source_month = '{month}-01'"
    ));
    let mart = stack.mart_sql(&format!(
        "SELECT (f.n + r.n) || ' ' || (f.total + r.total)::numeric(20,2) FROM \
           (SELECT count(*) AS n, coalesce(sum(total_amount_cents), 0) * 0.01 AS total FROM mart.fact_trip \
            WHERE service_id = {sid} AND pickup_at >= '{month}-01' AND pickup_at < '{month}-01'::date + interval '1 month') f, \
           (SELECT coalesce(sum(rows), 0) AS n, coalesce(sum(total_amount_sum), 0) AS total FROM mart.rejects \
            WHERE service_id = {sid} AND month_id = {month_id}) r"
    ));
    assert_eq!(mart, warehouse, "{kind} {month}: rows and money, mart vs warehouse");
    assert_eq!(
        mart_reasons(stack, kind, month),
        warehouse_reasons(stack, kind, month),
        "{kind} {month} by reason"
    );
}

/// The fact has no foreign keys (migration 0004: ATTACH PARTITION would validate each one
/// over the whole month); the build guarantees what they did: every key in its dimension,
/// and a used member cannot be removed.
fn assert_fact_keys_in_dimensions(stack: &Stack) {
    let orphans = |column: &str, dimension: &str, key: &str| {
        stack.mart_sql(&format!(
            "SELECT count(*) FROM mart.fact_trip f WHERE NOT EXISTS \
             (SELECT 1 FROM mart.{dimension} d WHERE d.{key} = f.{column})"
        ))
    };
    for (column, dimension, key) in [
        ("service_id", "dim_service", "service_id"),
        ("pickup_date_id", "dim_date", "date_id"),
        ("pickup_hour", "dim_time_of_day", "hour"),
        ("pu_zone_id", "dim_zone", "zone_id"),
        ("do_zone_id", "dim_zone", "zone_id"),
        ("vendor_id", "dim_vendor", "vendor_id"),
        ("payment_type_id", "dim_payment_type", "payment_type_id"),
        ("rate_code_id", "dim_rate_code", "rate_code_id"),
    ] {
        assert_eq!(orphans(column, dimension, key), "0", "fact_trip.{column} outside mart.{dimension}");
    }
    assert_eq!(
        stack.mart_sql(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'mart.fact_trip'::regclass AND contype = 'f'"
        ),
        "0"
    );
    // What the foreign keys refused, refused still; an unused member can go.
    let used_vendor = stack.mart_sql("SELECT min(vendor_id) FROM mart.fact_trip WHERE vendor_id > 0");
    let used_zone = stack.mart_sql("SELECT min(do_zone_id) FROM mart.fact_trip");
    for refused in [
        format!("DELETE FROM mart.dim_vendor WHERE vendor_id = {used_vendor}"),
        format!("UPDATE mart.dim_zone SET zone_id = 0 WHERE zone_id = {used_zone}"),
        "DELETE FROM mart.dim_date WHERE date_id = (SELECT max(pickup_date_id) FROM mart.fact_trip)"
            .to_owned(),
        "TRUNCATE mart.dim_rate_code CASCADE".to_owned(),
    ] {
        let err = stack.mart.psql("postgres", &refused).expect_err(&refused).to_string();
        assert!(
            err.contains("is used by mart.fact_trip.") || err.contains("a dimension of mart.fact_trip"),
            "{err}"
        );
    }
    stack.mart_sql("INSERT INTO mart.dim_vendor VALUES (98, 'Unused')");
    stack.mart_sql("UPDATE mart.dim_zone SET name = name WHERE zone_id = 1");
    stack.mart_sql("DELETE FROM mart.dim_vendor WHERE vendor_id = 98");
}

const HAND_MADE: &str = "INSERT INTO raw.yellow_tripdata (source_month, source_row, vendorid, \
    tpep_pickup_datetime, tpep_dropoff_datetime, passenger_count, trip_distance, ratecodeid, pulocationid, \
    dolocationid, payment_type, fare_amount, tip_amount, total_amount) VALUES \
    ('2023-01-01', 9000001, 1, '2023-01-10 10:00', '2023-01-10 10:30', 1, 3, 1, 999, 4, 1, 12, 0, 15), \
    ('2023-01-01', 9000002, 1, NULL, '2023-01-10 10:30', 1, 3, 1, 4, 4, 1, 12, 0, 15), \
    ('2023-01-01', 9000003, 1, '2023-01-10 10:00', '2023-01-11 16:00', 1, 3, 1, 4, 4, 1, 12, 0, 15), \
    ('2023-01-01', 9000004, 1, '2023-01-10 10:00', '2023-01-10 10:30', 1, 600, 1, 4, 4, 1, 12, 0, 15), \
    ('2023-01-01', 9000005, 1, '2023-01-10 10:00', '2023-01-10 10:30', 1, 3, 1, 4, 4, 1, NULL, 0, 15), \
    ('2023-01-01', 9000006, 1, '2023-01-10 10:00', '2023-01-10 10:30', 1, 3, 1, 4, 4, 1, 20000, 0, 20003), \
    ('2023-01-01', 9000007, 5, '2023-01-10 10:00', '2023-01-10 10:30', 12, 3, 42, 4, 4, 9, 12, 0, 15), \
    ('2023-01-01', 9000008, NULL, '2023-01-10 10:00', '2023-01-10 10:30', NULL, 3, NULL, 4, 4, NULL, 12, 0, 15)";

#[test]
fn yellow_and_green_months_are_accounted_for_by_reason_and_rebuild_identically() {
    let stack = Stack::start(true);
    let wh_id = stack.wh("SELECT system_identifier FROM pg_control_system()");
    let mart_id = stack.mart_sql("SELECT system_identifier FROM pg_control_system()");
    assert_ne!(wh_id, mart_id, "the warehouse and the mart must be two servers");

    let months = [
        (TripKind::Yellow, "2023-01", Era::Y2022, 30_000),
        (TripKind::Yellow, "2024-02", Era::Y2024, 12_000),
        (TripKind::Green, "2019-07", Era::Y2019, 8_000),
        (TripKind::Green, "2025-01", Era::Y2025, 6_000),
    ];
    for (kind, month, era, rows) in months {
        stack.put_month(kind, month, era, rows);
    }
    stack.load(TripKind::Yellow);
    stack.load(TripKind::Green);
    stack.wh(HAND_MADE);
    // As if the month had been loaded with them (the mart rebuilds months whose row count
    // differs from the load log's).
    stack.wh("UPDATE raw.load_log SET rows = rows + 8 WHERE kind = 'yellow' AND month = '2023-01-01'");

    let yellow = stack.build(TripKind::Yellow, None);
    assert_eq!(yellow.zones, ZoneSource::Lake { rows: 265 });
    assert_eq!(yellow.built().count(), 2);
    // 2023-01 has the hand-made rows its load did not count: the warehouse counts it again.
    let counts: Vec<_> =
        yellow.months.iter().map(|(m, b)| (m.to_string(), b.as_ref().unwrap().money_count)).collect();
    assert_eq!(
        counts,
        [("2023-01".to_owned(), MoneyCount::ValueByValue), ("2024-02".to_owned(), MoneyCount::AtLoad)]
    );
    let green = stack.build(TripKind::Green, None);
    assert_eq!(green.built().count(), 2);
    assert!(green.built().all(|b| b.money_count == MoneyCount::AtLoad), "{green:?}");

    for (kind, month, _, _) in months {
        assert_accounted(&stack, kind, month);
    }
    // Every planted defect of the generator is there to be counted.
    let reasons = mart_reasons(&stack, TripKind::Yellow, "2023-01");
    for reason in [
        "pickup_outside_month",
        "dropoff_not_after_pickup",
        "distance_not_positive",
        "distance_over_500mi",
        "amount_negative",
    ] {
        assert!(reasons.contains(reason), "{reason} missing from {reasons}");
    }
    // Each hand-made row in its reason; unknown codes kept under the unknown members.
    assert_eq!(
        stack.mart_sql(
            "SELECT string_agg(source_row || ':' || reason, ',' ORDER BY source_row) FROM mart.reject_samples \
             WHERE source_row > 9000000"
        ),
        "9000001:zone_unknown,9000002:timestamp_missing,9000003:trip_over_24h,9000004:distance_over_500mi,\
         9000005:amount_missing,9000006:amount_over_10000"
    );
    // A sample is the row as it was staged; ten per reason, or every row of a rarer one.
    let (amiss, samples) = stack.samples_amiss(&["yellow", "green"], "staging_trip");
    assert_eq!(amiss, " | ");
    assert!(samples.parse::<u32>().unwrap() > 20, "{samples} samples");
    assert_eq!(
        stack.mart_sql(
            "SELECT string_agg(concat_ws(':', source_row, row_data->>'trip_distance', row_data->>'fare_amount', \
                                         row_data->>'total_amount'), ',' ORDER BY source_row) \
             FROM mart.reject_samples WHERE source_row IN (9000004, 9000006)"
        ),
        "9000004:600:12:15,9000006:3:20000:20003"
    );
    assert_eq!(
        stack.mart_sql(
            "SELECT string_agg(concat_ws(':', source_row, vendor_id, payment_type_id, rate_code_id, passenger_count), ',' \
             ORDER BY source_row) FROM mart.fact_trip WHERE source_row > 9000000"
        ),
        "9000007:-1:-1:-1,9000008:-1:-1:-1"
    );
    // The aggregates agree with the fact.
    assert_eq!(
        stack.mart_sql("SELECT sum(trips) || ' ' || sum(revenue) FROM mart.agg_daily"),
        stack.mart_sql("SELECT count(*) || ' ' || sum(total_amount_cents) * 0.01 FROM mart.fact_trip")
    );
    assert_eq!(
        stack.mart_sql("SELECT sum(trips) FROM mart.agg_hour_weekday"),
        stack.mart_sql("SELECT count(*) FROM mart.fact_trip")
    );
    assert_fact_keys_in_dimensions(&stack);
    assert_eq!(stack.mart_sql("SELECT count(*) FROM mart.fact_trip_default"), "0");
    assert_eq!(
        stack.mart_sql("SELECT count(*) FROM pg_inherits WHERE inhparent = 'mart.fact_trip'::regclass"),
        "5"
    );

    // Nothing new in the warehouse: nothing to build. A forced rebuild changes nothing.
    let before = stack.mart_contents();
    assert_eq!(stack.build(TripKind::Yellow, None).months.len(), 0);
    assert_eq!(stack.build(TripKind::Yellow, Some("2023-01")).built().count(), 1);
    assert_eq!(stack.build(TripKind::Yellow, Some("2024-02")).built().count(), 1);
    assert_eq!(stack.build(TripKind::Green, Some("2019-07")).built().count(), 1);
    assert_eq!(stack.mart_contents(), before);

    // Reloaded months are rebuilt, even when the loader's clock ran behind the mart's: the
    // mart compares the load it built from, not two clocks.
    stack.load(TripKind::Yellow);
    stack.wh(
        "UPDATE raw.load_log SET finished_at = '2001-01-01' WHERE kind = 'yellow' AND month = '2024-02-01'",
    );
    let rebuilt: Vec<String> =
        stack.build(TripKind::Yellow, None).months.iter().map(|(m, _)| m.to_string()).collect();
    assert_eq!(rebuilt, ["2023-01", "2024-02"]);
    assert_eq!(stack.build(TripKind::Yellow, None).months.len(), 0);
    for (kind, month, _, _) in months {
        assert_accounted(&stack, kind, month);
    }

    // A month missing from the warehouse is a failure of that month only.
    let request = BuildRequest {
        months: Some("2019-06..2019-07".parse().unwrap()),
        ..BuildRequest::new(TripKind::Green)
    };
    let report = stack
        .rt
        .block_on(atl_mart::build(&stack.wh_db(), &stack.mart_db(), &stack.lake, &request, |_| {}))
        .unwrap();
    assert_eq!((report.built().count(), report.failures().count()), (1, 1));
    assert!(report.failures().next().unwrap().1.to_string().contains("2019-06"));
    let status = stack.rt.block_on(atl_mart::status(&stack.mart_db())).unwrap();
    assert_eq!(status.len(), 4);
}

#[test]
fn without_a_zone_table_zones_are_unknown_members() {
    let stack = Stack::start(false);
    stack.put_month(TripKind::Green, "2023-03", Era::Y2022, 2_000);
    stack.load(TripKind::Green);
    let report = stack.build(TripKind::Green, None);
    assert_eq!(report.zones, ZoneSource::Missing);
    assert_eq!(
        stack.mart_sql(
            "SELECT count(*) || ' ' || min(name) FROM mart.dim_zone WHERE name LIKE 'Unknown zone %'"
        ),
        "265 Unknown zone 1"
    );
    assert_accounted(&stack, TripKind::Green, "2023-03");

    // insertion.sql run by hand (psql, no atl.warehouse_total: it sums the staging table
    // itself) over the whole month staged rebuilds the same month.
    let before = stack.mart_contents();
    stack.stage_whole_month(TripKind::Green, "2023-03");
    stack.mart_sql(&format!(
        "SELECT set_config('atl.month', '2023-03-01', false), set_config('atl.service', 'green', false); {}",
        atl_mart::schema::INSERTION_SQL
    ));
    assert_eq!(stack.mart_contents(), before);
    assert_accounted(&stack, TripKind::Green, "2023-03");
}

#[test]
fn kill_9_mid_build_keeps_the_previous_month_and_the_rerun_completes() {
    let stack = Stack::start(true);
    stack.put_month(TripKind::Yellow, "2023-05", Era::Y2022, 1_000);
    stack.load(TripKind::Yellow);
    let lake_url = format!("file://{}", stack.lake_dir.path().display());
    let run = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_atl-mart"));
        command
            .args(["--warehouse", &stack.warehouse.url("postgres"), "--mart", &stack.mart.url("postgres")])
            .args(["--lake", &lake_url, "build", "--kind", "yellow"])
            .env("RUST_LOG", "warn,sqlx=error");
        command
    };
    assert!(run().status().unwrap().success());
    let before = stack.mart_contents();
    let month_rows = "SELECT warehouse_rows FROM mart.build_log";
    assert_eq!(stack.mart_sql(month_rows), "1000");

    // A bigger version of the month reaches the warehouse; the build starts and dies inside
    // insertion.sql (after the whole month was streamed into the new partition and staging,
    // the old partition dropped and the new one attached): held there by a lock on a table
    // only insertion.sql's last steps write, for as long as the test needs.
    stack.put_month(TripKind::Yellow, "2023-05", Era::Y2022, 1_500_000);
    stack.load(TripKind::Yellow);
    let mut holder = stack.rt.block_on(atl_mart::connect(&stack.mart_db())).unwrap();
    let hold = "BEGIN; LOCK TABLE mart.agg_fare_distance IN ACCESS EXCLUSIVE MODE";
    stack.rt.block_on(sqlx::raw_sql(hold).execute(&mut holder)).unwrap();
    let mut child = run().spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    let inserting = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND application_name = 'atl-mart insertion.sql'";
    loop {
        if stack.mart_sql(&format!("{inserting} AND wait_event_type = 'Lock'")) != "0" {
            break;
        }
        assert!(Instant::now() < deadline, "insertion.sql never started");
        assert!(child.try_wait().unwrap().is_none(), "the build finished before it could be killed");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while stack.mart_sql(inserting) != "0" {
        assert!(Instant::now() < deadline, "the killed build is still running");
        std::thread::sleep(Duration::from_millis(50));
    }
    stack.rt.block_on(sqlx::raw_sql("ROLLBACK").execute(&mut holder)).unwrap();
    assert_eq!(stack.mart_contents(), before, "the previous month must be intact");
    assert_eq!(stack.mart_sql("SELECT count(*) FROM pg_class WHERE relname = 'fact_trip_build'"), "0");

    assert!(run().status().unwrap().success());
    assert_eq!(stack.mart_sql(month_rows), "1500000");
    assert_accounted(&stack, TripKind::Yellow, "2023-05");
}

/// `atl-mart build --kind yellow` against this stack, as a scheduler runs it.
fn mart_command(stack: &Stack, lake_url: &str) -> Command {
    mart_command_reading(stack, lake_url, &stack.warehouse.url("postgres"))
}

/// `atl-mart build --kind yellow` reading the warehouse at `warehouse_url`.
fn mart_command_reading(stack: &Stack, lake_url: &str, warehouse_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_atl-mart"));
    atl_devservices::without_atl_env(&mut command);
    command
        .current_dir(stack.lake_dir.path())
        .args(["--warehouse", warehouse_url, "--mart", &stack.mart.url("postgres")])
        .args(["--lake", lake_url, "build", "--kind", "yellow"])
        .env("RUST_LOG", "warn,sqlx=error");
    command
}

#[test]
fn two_builds_at_once_build_each_month_once() {
    let stack = Stack::start(true);
    stack.put_month(TripKind::Yellow, "2023-04", Era::Y2022, 2_000);
    stack.put_month(TripKind::Yellow, "2023-05", Era::Y2022, 2_000);
    stack.load(TripKind::Yellow);
    let lake_url = format!("file://{}", stack.lake_dir.path().display());
    // Both runs start while another holds the build lock, so they do overlap.
    let holder = stack.rt.block_on(async {
        use sqlx::Connection;
        let mut holder = sqlx::PgConnection::connect(&stack.mart.url("postgres")).await.unwrap();
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(atl_core::pg::lock::MART_BUILD)
            .execute(&mut holder)
            .await
            .unwrap();
        holder
    });
    let first = mart_command(&stack, &lake_url).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let second = mart_command(&stack, &lake_url).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted";
    while stack.mart_sql(waiting) != "2" {
        assert!(Instant::now() < deadline, "the two builds never both waited for the lock");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(holder);
    let outputs = [first.wait_with_output().unwrap(), second.wait_with_output().unwrap()];
    let texts: Vec<String> = outputs.iter().map(output_text).collect();
    assert!(outputs.iter().all(|o| o.status.success()), "{texts:?}");
    let built: Vec<bool> = texts.iter().map(|t| t.contains("mart: 2 yellow months built")).collect();
    let idle: Vec<bool> = texts.iter().map(|t| t.contains("mart: 0 yellow months built")).collect();
    assert!(built[0] != built[1] && idle[0] != idle[1] && built[0] == idle[1], "{texts:?}");
    assert_accounted(&stack, TripKind::Yellow, "2023-04");
    assert_accounted(&stack, TripKind::Yellow, "2023-05");
}

#[test]
fn a_month_whose_rows_are_all_rejected_fails_the_build_naming_the_reason() {
    let stack = Stack::start(true);
    stack.put_month(TripKind::Yellow, "2023-06", Era::Y2022, 1_000);
    // Another month's file, forced into the warehouse as 2023-07.
    let wrong = TripFileSpec::new(TripKind::Yellow, "2021-03".parse().unwrap(), 1_500);
    let filed_as = TripFile::new(TripKind::Yellow, "2023-07".parse().unwrap());
    write_trip_file_to(&wrong, &stack.lake_dir.path().join(filed_as.lake_key())).unwrap();
    let mut request = LoadRequest::new(TripKind::Yellow);
    request.allow_other_month = true;
    let report =
        stack.rt.block_on(atl_warehouse::load(&stack.wh_db(), &stack.lake, &request, |_| {})).unwrap();
    assert_eq!(report.loaded().count(), 2);

    let lake_url = format!("file://{}", stack.lake_dir.path().display());
    for run in 0..2 {
        let output = mart_command(&stack, &lake_url).output().unwrap();
        let text = output_text(&output);
        assert_eq!(output.status.code(), Some(1), "run {run}: {text}");
        let line =
            text.lines().find(|l| l.contains("failed yellow 2023-07")).unwrap_or_else(|| panic!("{text}"));
        assert!(
            line.contains("all 1500 rows were rejected") && line.contains("pickup_outside_month"),
            "{line}"
        );
    }
    assert_accounted(&stack, TripKind::Yellow, "2023-06");

    let typo = stack.lake_dir.path().join("typo");
    let output = mart_command(&stack, &format!("file://{}", typo.display())).output().unwrap();
    let text = output_text(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.lines().next().unwrap_or_default().contains("does not exist"), "{text}");
    assert!(!typo.exists());
}

#[test]
fn reference_files_load_and_each_month_counts_on_the_tlc_definition() {
    use atl_testdata::reference::{
        IndicatorRow, TWO_PART_ZONE, ZONE_SHAPES, indicators_csv, zone_shapes_zip,
    };
    let stack = Stack::start(true);
    stack.put_month(TripKind::Green, "2023-03", Era::Y2022, 3_000);
    stack.load(TripKind::Green);
    // The TLC's figure for the month, as the TLC defines it: every recorded trip picked up
    // in the month, over its days (here counted straight from the warehouse).
    let in_month = "lpep_pickup_datetime >= '2023-03-01' AND lpep_pickup_datetime < '2023-04-01'";
    let warehouse_trips: f64 =
        stack.wh(&format!("SELECT count(*) FROM raw.green_tripdata WHERE {in_month}")).parse().unwrap();
    let warehouse_farebox = stack.wh(&format!(
        "SELECT sum(round(total_amount::numeric, 2)) - sum(round(tip_amount::numeric, 2)) FROM raw.green_tripdata WHERE {in_month}"
    ));
    let reference = stack.lake_dir.path().join("reference");
    std::fs::write(reference.join("taxi_zones.zip"), zone_shapes_zip()).unwrap();
    let rows = [
        IndicatorRow {
            month: "2023-03".parse().unwrap(),
            licence_class: "Green",
            trips_per_day: warehouse_trips / 31.0,
            farebox_per_day: Some(40_000.0),
        },
        IndicatorRow {
            month: "2023-03".parse().unwrap(),
            licence_class: "FHV - High Volume",
            trips_per_day: 600_000.0,
            farebox_per_day: None,
        },
    ];
    // Padded header names, as older releases write them.
    std::fs::write(reference.join("data_reports_monthly.csv"), indicators_csv(&rows, true)).unwrap();

    let report = stack.build(TripKind::Green, None);
    assert_eq!(report.reference.zone_shapes.rows(), Some(ZONE_SHAPES as usize));
    assert_eq!(report.reference.indicators.rows(), Some(2));
    assert_eq!(
        stack.mart_sql(
            "SELECT count(*), count(DISTINCT zone_id), min(zone_id), max(zone_id) FROM mart.ref_zone_shape"
        ),
        format!("{ZONE_SHAPES}|{ZONE_SHAPES}|1|{ZONE_SHAPES}")
    );
    // Two islands are two rings; every path is drawable and inside its bounding box.
    let rings = stack.mart_sql(&format!(
        "SELECT length(svg_path) - length(replace(svg_path, 'M', '')) FROM mart.ref_zone_shape WHERE zone_id = {TWO_PART_ZONE}"
    ));
    assert_eq!(rings, "2");
    assert_eq!(
        stack.mart_sql(
            "SELECT count(*) FROM mart.ref_zone_shape WHERE svg_path !~ '^(M-?[0-9]+ -?[0-9]+(L-?[0-9]+ -?[0-9]+)+Z)+$' OR min_x >= max_x OR min_y >= max_y"
        ),
        "0"
    );
    // North up: zone 1's square is at the grid's bottom row, so below zone 18's (y grows down).
    let lower: i64 =
        stack.mart_sql("SELECT min_y FROM mart.ref_zone_shape WHERE zone_id = 1").parse().unwrap();
    let upper: i64 =
        stack.mart_sql("SELECT min_y FROM mart.ref_zone_shape WHERE zone_id = 18").parse().unwrap();
    assert!(lower > upper, "zone 1 at y {lower}, zone 18 at y {upper}");
    assert_eq!(
        stack.mart_sql(
            "SELECT licence_class || ' ' || round(trips_per_day) || ' ' || coalesce(farebox_per_day::text, '-') \
             FROM mart.ref_tlc_indicator ORDER BY licence_class"
        ),
        format!("FHV - High Volume 600000 -\nGreen {} 40000", (warehouse_trips / 31.0).round())
    );
    // The month on the TLC's definition: the warehouse's in-month rows, cleaning or not.
    assert_eq!(
        stack.mart_sql(
            "SELECT trips || ' ' || (total_amount_sum - tip_amount_sum) FROM mart.agg_month_recorded"
        ),
        format!("{} {warehouse_farebox}", warehouse_trips as i64)
    );
    let fact: f64 = stack.mart_sql("SELECT sum(trips) FROM mart.agg_daily").parse().unwrap();
    assert!(fact < warehouse_trips, "cleaning kept {fact} of {warehouse_trips}");

    let releases = "SELECT string_agg(lake_key || ' ' || coalesce(newest_month::text, '-'), ',' ORDER BY lake_key) \
                    FROM mart.ref_release";
    assert_eq!(
        stack.mart_sql(releases),
        "reference/data_reports_monthly.csv 202303,reference/taxi_zones.zip -"
    );
    let shapes_release =
        "SELECT fetched_at FROM mart.ref_release WHERE lake_key = 'reference/taxi_zones.zip'";
    let good_release = stack.mart_sql(shapes_release);

    // A corrupt zip in the lake (and an indicators CSV without its columns): the month still
    // builds, the report names each file and why, and the mart keeps the copies it had.
    std::fs::write(reference.join("taxi_zones.zip"), b"PK\x05\x06not really").unwrap();
    std::fs::write(reference.join("data_reports_monthly.csv"), "Month,Trips\n2023-03,1\n").unwrap();
    stack.put_month(TripKind::Green, "2023-04", Era::Y2022, 1_000);
    stack.load(TripKind::Green);
    let report = stack.build(TripKind::Green, None);
    assert!(report.months.iter().any(|(m, _)| m.to_string() == "2023-04"), "the new month is built");
    assert!(report.months.iter().all(|(_, built)| built.is_ok()), "{:?}", report.months);
    let unreadable = |status: &ReferenceStatus| match status {
        ReferenceStatus::Unreadable(e) => atl_core::ErrorChain::new(e).to_string(),
        other => panic!("{other:?}"),
    };
    let message = unreadable(&report.reference.zone_shapes);
    assert!(
        message.starts_with(
            "reference/taxi_zones.zip in the lake does not read: the zone shapefile: not a zip archive"
        ),
        "{message}"
    );
    let message = unreadable(&report.reference.indicators);
    assert!(
        message.starts_with(
            "reference/data_reports_monthly.csv in the lake does not read: the indicators CSV: no column"
        ),
        "{message}"
    );
    assert_eq!(stack.mart_sql("SELECT count(*) FROM mart.ref_zone_shape"), ZONE_SHAPES.to_string());
    assert_eq!(stack.mart_sql("SELECT count(*) FROM mart.ref_tlc_indicator"), "2");
    assert_eq!(stack.mart_sql(shapes_release), good_release);
}

#[test]
fn a_warehouse_role_that_may_only_read_builds_the_mart() {
    let stack = Stack::start(true);
    stack.put_month(TripKind::Yellow, "2023-05", Era::Y2022, 1_000);
    stack.load(TripKind::Yellow);
    // The role made before warehouse migration 6 (raw.load_totals), as README.md says; the
    // migration lets it read the new table too.
    stack.wh("DROP TABLE raw.load_totals; DELETE FROM raw._sqlx_migrations WHERE version = 6");
    stack.wh("CREATE ROLE reader LOGIN; GRANT USAGE ON SCHEMA raw TO reader; \
         GRANT SELECT ON ALL TABLES IN SCHEMA raw TO reader");
    stack.load(TripKind::Yellow);
    assert_eq!(stack.wh("SELECT has_table_privilege('reader', 'raw.load_totals', 'SELECT')"), "t");
    let lake_url = format!("file://{}", stack.lake_dir.path().display());
    let reader = stack.warehouse.url("postgres").replacen("postgres@", "reader@", 1);
    let output = mart_command_reading(&stack, &lake_url, &reader).output().unwrap();
    let text = output_text(&output);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("mart: 1 yellow months built, 0 failed"), "{text}");
    assert_accounted(&stack, TripKind::Yellow, "2023-05");
}

#[test]
fn a_warehouse_schema_older_than_the_release_stops_the_build_naming_the_upgrade() {
    let stack = Stack::start(true);
    stack.put_month(TripKind::Yellow, "2023-05", Era::Y2022, 1_000);
    stack.load(TripKind::Yellow);
    let newest = atl_warehouse::migrate::MIGRATOR.iter().map(|m| m.version).max().unwrap();
    // As a warehouse last migrated by the release before this one records itself.
    stack.wh(&format!("DELETE FROM raw._sqlx_migrations WHERE version = {newest}"));
    let lake_url = format!("file://{}", stack.lake_dir.path().display());
    let output = mart_command(&stack, &lake_url).output().unwrap();
    let text = output_text(&output);
    assert!(!output.status.success(), "{text}");
    let expected =
        format!("the warehouse's schema is at version {}, this release reads version {newest}", newest - 1);
    assert!(text.contains(&expected) && text.contains("atl-warehouse migrate"), "{text}");
    assert_eq!(stack.mart_sql("SELECT count(*) FROM mart.fact_trip"), "0");
    assert_eq!(stack.wh("SELECT count(*) FROM raw._sqlx_migrations"), (newest - 1).to_string());
}

/// A month's build says how far its stream has got, every `progress_rows` rows read from the
/// warehouse (a high-volume month streams for minutes): the counts rise past each multiple,
/// and none is beyond the month.
#[test]
fn a_build_reports_the_rows_it_has_streamed_as_it_goes() {
    let stack = Stack::start(true);
    stack.put_month(TripKind::Yellow, "2024-02", Era::Y2024, 3_000);
    stack.load(TripKind::Yellow);
    let streamed = std::sync::Mutex::new(Vec::new());
    let request = BuildRequest { progress_rows: 500, ..BuildRequest::new(TripKind::Yellow) };
    let report = stack
        .rt
        .block_on(atl_mart::build(&stack.wh_db(), &stack.mart_db(), &stack.lake, &request, |event| {
            if let atl_mart::BuildEvent::Streamed(kind, month, rows) = event {
                streamed.lock().unwrap().push((kind, month.to_string(), rows));
            }
        }))
        .unwrap();
    assert_eq!(report.failures().count(), 0);
    let streamed = streamed.into_inner().unwrap();
    assert!(streamed.iter().all(|(kind, month, _)| *kind == TripKind::Yellow && month == "2024-02"));
    let rows: Vec<u64> = streamed.iter().map(|(_, _, rows)| *rows).collect();
    assert!(rows.len() >= 3, "{rows:?}");
    assert!(rows.windows(2).all(|w| w[1] / 500 > w[0] / 500), "{rows:?}");
    assert!(rows.iter().all(|r| (500..=3_000).contains(r)), "{rows:?}");
}
