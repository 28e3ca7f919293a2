//! The two ways a taxi month reaches the mart give the same mart: `atl-mart build` (rules and
//! conversions applied in Rust as the rows stream, crates/mart/src/cleaning) and insertion.sql
//! by hand over the whole month staged (the SQL generated from the same declarations). The
//! months hold generated rows and rows made to sit on every edge of a rule or a conversion.

use atl_core::TripKind;
use atl_testdata::Era;

mod common;
use common::Stack;

/// Yellow 2023-01 rows on the edges: (source_row, vendorid, pickup, dropoff, passenger_count,
/// trip_distance, ratecodeid, store_and_fwd_flag, pulocationid, dolocationid, payment_type,
/// fare_amount, extra, tip_amount, tolls_amount, improvement_surcharge, total_amount).
const YELLOW_EDGES: &[&str] = &[
    // Half cents, fractions of cents, -0, codes and counts off their lists: kept.
    "9100001, 1, '2023-01-10 10:00', '2023-01-10 10:30', 2.5, 2.675, 1, 'Y', 4, 4, 1, 2.675, 0.125, 1.005, -0.005, 0.3, 4.805",
    "9100002, 2, '2023-01-10 10:00', '2023-01-10 10:00:00.5', -0.0, 0.005, 2.5, 'N', 1, 265, 0, -0.0, 12.3456789, 0.0049999, 0, -0.3, 9999.995",
    "9100003, 2147483647, '2023-01-01 00:00', '2023-01-02 00:00', 9, 500, 'NaN', 'y', 265, 1, 'NaN', 10000, -10000, 0, 0, 0, 10000",
    "9100004, NULL, '2023-01-31 23:59:59.999999', '2023-02-01 00:00:01.499999', 10, 0.01, NULL, '', 2, 3, 3, 0.01, NULL, NULL, NULL, NULL, 0.01",
    "9100005, 1, '2023-01-15 12:00', '2023-01-15 12:00:01.5', 'NaN', 1e-2, 99, NULL, 132, 138, 2.0, 7.994999999, 1.115, 2.225, 3.335, 4.445, 19.115",
    // Each rule's edge: rejected.
    "9100011, 1, '2023-02-01 00:00', '2023-02-01 00:10', 1, 3, 1, 'N', 4, 4, 1, 12, 0, 0, 0, 0, 15",
    "9100012, 1, 'infinity', 'infinity', 1, 3, 1, 'N', 4, 4, 1, 12, 0, 0, 0, 0, 15",
    "9100013, 1, '2023-01-10 10:00', '2023-01-10 10:00', 1, 3, 1, 'N', 4, 4, 1, 12, 0, 0, 0, 0, 15",
    "9100014, 1, '2023-01-10 10:00', '2023-01-11 10:00:00.000001', 1, 3, 1, 'N', 4, 4, 1, 12, 0, 0, 0, 0, 15",
    "9100015, 1, '2023-01-10 10:00', '2023-01-10 10:30', 1, 3, 1, 'N', 0, 4, 1, 12, 0, 0, 0, 0, 15",
    "9100016, 1, '2023-01-10 10:00', '2023-01-10 10:30', 1, 3, 1, 'N', 4, 266, 1, 12, 0, 0, 0, 0, 15",
    "9100017, 1, '2023-01-10 10:00', '2023-01-10 10:30', 1, 0, 1, 'N', 4, 4, 1, 12, 0, 0, 0, 0, 15",
    "9100018, 1, '2023-01-10 10:00', '2023-01-10 10:30', 1, 'NaN', 1, 'N', 4, 4, 1, 12, 0, 0, 0, 0, 15",
    "9100019, 1, '2023-01-10 10:00', '2023-01-10 10:30', 1, 500.0000001, 1, 'N', 4, 4, 1, 12, 0, 0, 0, 0, 15",
    "9100020, 1, '2023-01-10 10:00', '2023-01-10 10:30', 1, 3, 1, 'N', 4, 4, 1, 12, 0, 0, 0, 0, NULL",
    "9100021, 1, '2023-01-10 10:00', '2023-01-10 10:30', 1, 3, 1, 'N', 4, 4, 1, -0.01, 0, 0, 0, 0, 15",
    "9100022, 1, '2023-01-10 10:00', '2023-01-10 10:30', 1, 3, 1, 'N', 4, 4, 1, 12, 'NaN', 0, 0, 0, 15",
    "9100023, 1, '2023-01-10 10:00', '2023-01-10 10:30', 1, 3, 1, 'N', 4, 4, 1, 12, 0, 0, 'Infinity', 0, 15",
    "9100024, 1, '2023-01-10 10:00', '2023-01-10 10:30', 1, 3, 1, 'N', 4, 4, 1, 12, 0, 0, 0, '-Infinity', 15",
    "9100025, 1, '2023-01-10 10:00', '2023-01-10 10:30', 1, 3, 1, 'N', 4, 4, 1, 12, 0, 0, 0, 0, 10000.004",
    "9100026, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL",
    // A distance the fact would hold as 0.00 mi (its CHECK wants > 0): rejected, not a failed build.
    "9100027, 1, '2023-01-10 10:00', '2023-01-10 10:30', 1, 0.004999, 1, 'N', 4, 4, 1, 12, 0, 0, 0, 0, 15",
    "9100028, 1, '2023-01-10 10:00', '2023-01-10 10:30', 1, '-Infinity', 1, 'N', 4, 4, 1, 12, 0, 0, 0, 0, 15",
];

/// Green 2019-07 rows on the edges of what green alone has: trip_type and ehail_fee.
/// (source_row, pickup, dropoff, trip_type, ehail_fee, fare_amount, total_amount)
const GREEN_EDGES: &[&str] = &[
    "9200001, '2019-07-04 08:00', '2019-07-04 08:20', 1, NULL, 5.555, 6.665",
    "9200002, '2019-07-04 08:00', '2019-07-04 08:20', 2, 0.125, 5, 6",
    "9200003, '2019-07-04 08:00', '2019-07-04 08:20', 3, -2.675, 5, 6",
    "9200004, '2019-07-04 08:00', '2019-07-04 08:20', 'NaN', 1.5, 5, 6",
    "9200005, '2019-07-04 08:00', '2019-07-04 08:20', 1.5, 'NaN', 5, 6",
    "9200006, '2019-07-31 23:30', '2019-08-01 00:10', NULL, 10001, 5, 6",
];

fn plant_edges(stack: &Stack) {
    let yellow: Vec<String> = YELLOW_EDGES.iter().map(|r| format!("('2023-01-01', {r})")).collect();
    stack.wh(&format!(
        "INSERT INTO raw.yellow_tripdata (source_month, source_row, vendorid, tpep_pickup_datetime, \
         tpep_dropoff_datetime, passenger_count, trip_distance, ratecodeid, store_and_fwd_flag, pulocationid, \
         dolocationid, payment_type, fare_amount, extra, tip_amount, tolls_amount, improvement_surcharge, \
         total_amount) VALUES {}",
        yellow.join(", ")
    ));
    let green: Vec<String> =
        GREEN_EDGES.iter().map(|r| format!("('2019-07-01', 2, 7, 8, 1, 1, 2, {r})")).collect();
    stack.wh(&format!(
        "INSERT INTO raw.green_tripdata (source_month, vendorid, pulocationid, dolocationid, payment_type, \
         ratecodeid, trip_distance, source_row, lpep_pickup_datetime, lpep_dropoff_datetime, trip_type, ehail_fee, \
         fare_amount, total_amount) VALUES {}",
        green.join(", ")
    ));
}

/// Everything the build wrote that a reader sees, the month on the TLC's definition included.
fn contents(stack: &Stack) -> (String, String) {
    (
        stack.mart_contents(),
        stack.mart_sql("SELECT string_agg(r::text, '|' ORDER BY r::text) FROM mart.agg_month_recorded r"),
    )
}

/// insertion.sql by hand, as psql users run it: the whole month staged, then the file.
fn build_by_hand(stack: &Stack, kind: TripKind, month: &str) {
    let staged = stack.stage_whole_month(kind, month);
    assert!(staged > 0);
    stack.mart_sql(&format!(
        "SELECT set_config('atl.month', '{month}-01', false), set_config('atl.service', '{kind}', false); {}",
        atl_mart::schema::INSERTION_SQL
    ));
}

#[test]
fn the_stream_and_insertion_sql_by_hand_build_the_same_months() {
    let stack = Stack::start(true);
    stack.put_month(TripKind::Yellow, "2023-01", Era::Y2022, 20_000);
    stack.put_month(TripKind::Green, "2019-07", Era::Y2019, 5_000);
    stack.load(TripKind::Yellow);
    stack.load(TripKind::Green);
    plant_edges(&stack);

    stack.build(TripKind::Yellow, Some("2023-01"));
    stack.build(TripKind::Green, Some("2019-07"));
    let streamed = contents(&stack);
    // The edges are there: the kept ones in the fact, the others under a reason.
    assert_eq!(
        stack.mart_sql("SELECT count(*) FROM mart.fact_trip WHERE source_row BETWEEN 9100001 AND 9100005"),
        "5"
    );
    assert_eq!(
        stack.mart_sql("SELECT count(*) FROM mart.fact_trip WHERE source_row BETWEEN 9200001 AND 9200004"),
        "4"
    );
    assert_eq!(
        stack.mart_sql(
            "SELECT concat_ws(' ', passenger_count, trip_distance_hundredths, fare_amount_cents, extra_cents, \
             tip_amount_cents, tolls_amount_cents, total_amount_cents, store_and_fwd, duration_sec, vendor_id, \
             rate_code_id) FROM mart.fact_trip WHERE source_row = 9100001"
        ),
        "268 268 13 101 -1 481 t 1800 1 1"
    );

    assert_eq!(
        stack.mart_sql("SELECT count(*) FROM mart.fact_trip WHERE source_row BETWEEN 9100011 AND 9100099"),
        "0"
    );

    build_by_hand(&stack, TripKind::Yellow, "2023-01");
    build_by_hand(&stack, TripKind::Green, "2019-07");
    let by_hand = contents(&stack);
    if by_hand != streamed {
        panic!("the stream and insertion.sql by hand differ:\nstreamed {streamed:?}\nby hand {by_hand:?}");
    }
    // And the stream again over the SQL path's month: the same.
    stack.build(TripKind::Yellow, Some("2023-01"));
    assert_eq!(contents(&stack), streamed);
}

/// The warehouse's connection dropped in the middle of the stream: the build fails naming
/// the month and the cause, the mart keeps the month it had, and the rerun completes.
#[test]
fn a_warehouse_connection_dropped_mid_stream_fails_the_month_and_keeps_the_previous_one() {
    let stack = Stack::start(true);
    stack.put_month(TripKind::Yellow, "2023-05", Era::Y2022, 1_000);
    stack.load(TripKind::Yellow);
    stack.build(TripKind::Yellow, Some("2023-05"));
    let before = stack.mart_contents();
    stack.put_month(TripKind::Yellow, "2023-05", Era::Y2022, 1_500_000);
    stack.load(TripKind::Yellow);

    let lake_url = format!("file://{}", stack.lake_dir.path().display());
    let run = || {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_atl-mart"));
        command
            .args(["--warehouse", &stack.warehouse.url("postgres"), "--mart", &stack.mart.url("postgres")])
            .args(["--lake", &lake_url, "build", "--kind", "yellow", "--months", "2023-05"])
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        command
    };
    let mut child = run().spawn().unwrap();
    // Cut once the stream is well under way (a tenth of the month sent), not at its start.
    let streaming =
        "SELECT pid FROM pg_stat_progress_copy WHERE command = 'COPY TO' AND tuples_processed > 150000";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let pid = loop {
        let pid = stack.wh(streaming);
        if !pid.is_empty() {
            break pid;
        }
        assert!(std::time::Instant::now() < deadline, "the stream never got under way");
        assert!(child.try_wait().unwrap().is_none(), "the build finished before its stream could be cut");
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    stack.wh(&format!("SELECT pg_terminate_backend({pid})"));
    let output = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{text}");
    assert!(text.contains("failed yellow 2023-05: reading yellow 2023-05"), "{text}");
    assert_eq!(stack.mart_contents(), before, "the previous month must be intact");
    assert_eq!(stack.mart_sql("SELECT count(*) FROM pg_class WHERE relname = 'fact_trip_build'"), "0");

    let rerun = run().output().unwrap();
    assert!(rerun.status.success(), "{}", String::from_utf8_lossy(&rerun.stderr));
    assert_eq!(stack.mart_sql("SELECT warehouse_rows FROM mart.build_log"), "1500000");
}

/// Roll-ups that do not describe the new partition (here a stale table a psql user left in
/// their session, which insertion.sql's CREATE ... IF NOT EXISTS keeps) stop the month,
/// naming both figures; the month stays as it was.
#[test]
fn roll_ups_that_disagree_with_the_new_partition_stop_the_month() {
    let stack = Stack::start(true);
    stack.put_month(TripKind::Yellow, "2023-01", Era::Y2022, 2_000);
    stack.load(TripKind::Yellow);
    stack.build(TripKind::Yellow, Some("2023-01"));
    let before = contents(&stack);
    assert!(stack.stage_whole_month(TripKind::Yellow, "2023-01") > 0);
    let stale = "CREATE TEMP TABLE rollup_day_hour_payment AS \
                 SELECT pickup_date_id, pickup_hour, payment_type_id, count(*) AS trips, \
                 sum(total_amount_cents) * 0.01 AS revenue, sum(fare_amount_cents) * 0.01 AS fare_sum, \
                 sum(tip_amount_cents) * 0.01 AS tip_sum, sum(duration_sec) AS duration_sec_sum, \
                 sum(trip_distance_hundredths) * 0.01 AS distance_sum, \
                 0::bigint AS airport_trips \
                 FROM mart.fact_trip WHERE pickup_date_id < 20230110 GROUP BY 1, 2, 3";
    let error = stack
        .mart
        .psql(
            "postgres",
            &format!(
                "{stale}; SELECT set_config('atl.month', '2023-01-01', false), \
                 set_config('atl.service', 'yellow', false); {}",
                atl_mart::schema::INSERTION_SQL
            ),
        )
        .expect_err("insertion.sql over roll-ups of other rows");
    let error = error.to_string();
    assert!(error.contains("the roll-ups count") && error.contains("the new partition holds"), "{error}");
    assert_eq!(contents(&stack), before);
}
