//! Migration 0008 upgrades a mart in place: for-hire months built by the release before it
//! (the model at migration 0007, cleaned by that release's insertion_for_hire.sql, kept in
//! `fixtures/v7`) keep every row and every cent per licence once their money is whole cents;
//! and this release's two ways of building the same months, the stream (`atl-mart build`) and
//! insertion_for_hire.sql by hand over the whole month staged, write the same mart again.

mod common;

use std::borrow::Cow;
use std::path::Path;
use std::process::Command;

use atl_core::TripKind;
use atl_testdata::Era;
use common::Stack;
use sqlx::migrate::Migrator;

/// The months built, with generated rows of every era's shape.
const MONTHS: [(TripKind, &str, Era, usize); 4] = [
    (TripKind::Fhvhv, "2019-03", Era::Y2022, 5_000),
    (TripKind::Fhvhv, "2025-02", Era::Y2024, 5_000),
    (TripKind::Fhv, "2016-06", Era::Y2022, 3_000),
    (TripKind::Fhv, "2023-06", Era::Y2024, 3_000),
];

/// HVFHV 2025-02 rows on the edges of the rounding and of the conversions: (source_row,
/// licence, dispatching base, request, pickup, dropoff, pu, do, trip_miles, trip_time,
/// base_passenger_fare, tolls, bcf, sales_tax, tips, driver_pay, cbd_congestion_fee,
/// shared_request_flag, wav_request_flag).
const EDGES: &[&str] = &[
    // Half cents and fractions of cents, -0, a negative driver pay: kept.
    "9300001, 'HV0003', ' b03404 ', '2025-02-03 09:50', '2025-02-03 10:00', '2025-02-03 10:20', 4, 7, 2.675, 1200, 2.675, 0.125, 1.005, -0.0, 0.005, -3.335, 0.75, ' y', 'n '",
    "9300002, 'HV0005', 'B03406', '2025-02-03 10:00', '2025-02-03 10:00', '2025-02-03 10:00:00.5', 1, 265, 0.005, -1, 9999.995, 0, 0, 0, 0, 9999.994999, NULL, 'Y', 'x'",
    // A request after the pickup, and one more than a day before it: no wait.
    "9300003, ' HV0003 ', '', '2025-02-04 10:00:01', '2025-02-04 10:00', '2025-02-04 10:30', 132, 138, 500, 3000000000, 0.01, NULL, NULL, NULL, NULL, NULL, 1.5, NULL, NULL",
    "9300004, 'HV0003', 'B03404', '2025-02-02 09:59:59', '2025-02-03 10:00', '2025-02-03 10:30', 4, 4, 3.1, 1800, 7.994999999, 1.115, 2.225, 3.335, 4.445, 5.555, 0.75, 'N', 'Y'",
    // Licences the mart does not list, and none: kept under their own service.
    "9300005, 'HV0099', 'B09999', NULL, '2025-02-05 10:00', '2025-02-05 10:20', 4, 7, 3.1, 1200, 15.5, 0, 0, 0, 2, 11, NULL, NULL, NULL",
    "9300006, NULL, 'B03404', NULL, '2025-02-05 11:00', '2025-02-05 11:20', 4, 7, 3.1, 1200, 15.5, 0, 0, 0, 0, 11, NULL, NULL, NULL",
    // Rejected: a negative tip, 0.004 mi, a driver pay above $10,000, a zone of 266.
    "9300011, 'HV0003', 'B03404', NULL, '2025-02-05 12:00', '2025-02-05 12:20', 4, 7, 3.1, 1200, 9, 0, 0, 0, -0.01, 7, NULL, NULL, NULL",
    "9300012, 'HV0003', 'B03404', NULL, '2025-02-05 13:00', '2025-02-05 13:20', 4, 7, 0.004, 1200, 9, 0, 0, 0, 0, 7, NULL, NULL, NULL",
    "9300013, 'HV0005', 'B03406', NULL, '2025-02-05 14:00', '2025-02-05 14:20', 4, 7, 3.1, 1200, 9, 0, 0, 0, 0, 10000.01, NULL, NULL, NULL",
    "9300014, 'HV0005', 'B03406', NULL, '2025-02-05 15:00', '2025-02-05 15:20', 4, 266, 3.1, 1200, 9, 0, 0, 0, 0, 7, NULL, NULL, NULL",
];

/// Other-FHV 2023-06 rows: zones missing, fractional, out of range; SR_Flag 1.
const FHV_EDGES: &[&str] = &[
    "9400001, ' b00013', '2023-06-02 10:00', '2023-06-02 10:20', NULL, NULL, 1, 'b00014 '",
    "9400002, 'B00013', '2023-06-02 11:00', '2023-06-02 11:20', 4.0, 265, 0, NULL",
    "9400003, 'B00013', '2023-06-02 12:00', '2023-06-02 12:20', 4.5, 7, NULL, NULL",
    "9400004, 'B00013', '2023-06-02 13:00', '2023-06-02 13:20', 'NaN', 7, NULL, NULL",
];

fn plant_edges(stack: &Stack) {
    let rows: Vec<String> = EDGES.iter().map(|r| format!("('2025-02-01', {r})")).collect();
    stack.wh(&format!(
        "INSERT INTO raw.fhvhv_tripdata (source_month, source_row, hvfhs_license_num, dispatching_base_num, \
           request_datetime, pickup_datetime, dropoff_datetime, pulocationid, dolocationid, trip_miles, trip_time, \
           base_passenger_fare, tolls, bcf, sales_tax, tips, driver_pay, cbd_congestion_fee, shared_request_flag, \
           wav_request_flag) VALUES {}",
        rows.join(", ")
    ));
    let rows: Vec<String> = FHV_EDGES.iter().map(|r| format!("('2023-06-01', {r})")).collect();
    stack.wh(&format!(
        "INSERT INTO raw.fhv_tripdata (source_month, source_row, dispatching_base_num, pickup_datetime, \
           dropoff_datetime, pulocationid, dolocationid, sr_flag, affiliated_base_number) VALUES {}",
        rows.join(", ")
    ));
    stack.wh(
        "UPDATE raw.load_log l SET rows = (SELECT count(*) FROM raw.fhvhv_tripdata WHERE source_month = l.month) \
         WHERE kind = 'fhvhv'; \
         UPDATE raw.load_log l SET rows = (SELECT count(*) FROM raw.fhv_tripdata WHERE source_month = l.month) \
         WHERE kind = 'fhv'",
    );
}

/// The release before migration 0008's insertion_for_hire.sql.
const V7_INSERTION: &str = "tests/fixtures/v7/insertion_for_hire.sql";

/// The mart's model as the release before migration 0008 left it, and the zone table staged.
fn migrate_to_version_7(stack: &Stack) {
    let seven = Migrator {
        migrations: Cow::Owned(
            atl_mart::schema::MIGRATOR.migrations.iter().filter(|m| m.version <= 7).cloned().collect(),
        ),
        ..Migrator::DEFAULT
    };
    stack
        .rt
        .block_on(async {
            let mut conn = atl_mart::connect(&stack.mart_db()).await.unwrap();
            atl_core::pg::migrate::apply(&mut conn, &seven, "mart", "mart.build_log").await.unwrap();
            // The lake's zone table, staged as atl-mart stages it: the builds by hand name
            // the zones and their boroughs from it.
            atl_mart::zones::stage_zones(&mut conn, &stack.lake).await
        })
        .unwrap();
    assert_eq!(stack.mart_sql("SELECT max(version) FROM mart._sqlx_migrations"), "7");
}

/// A month built by hand, as psql users build it (and as the release before migration 0008
/// built it): the whole month staged, then `file` (relative to the crate) run by psql.
fn build_by_hand(stack: &Stack, file: &str, kind: TripKind, month: &str) {
    stack.stage_whole_month(kind, month);
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let out = Command::new(stack.mart.cluster().install().bin("psql"))
        .args(stack.mart.cluster().psql_args("postgres"))
        .args(["-v", "ON_ERROR_STOP=1", "-c"])
        .arg(format!(
            "SELECT set_config('atl.month', '{month}-01', false), set_config('atl.service', '{kind}', false)"
        ))
        .arg("-f")
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{kind} {month}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Every fact row of the for-hire fact by its columns, money in dollars and miles whichever
/// unit the version stores, with each month's build_log, rejects and zone aggregates (the
/// other aggregates gained a borough at migration 0010: [`aggregates`] and [`city`] read them).
fn contents(stack: &Stack) -> String {
    stack.mart_sql(
        "SELECT md5(string_agg(t, '|' ORDER BY t)) FROM ( \
           SELECT (SELECT string_agg(k || '=' || v, ',' ORDER BY k) FROM ( \
                     SELECT regexp_replace(key, '_(cents|hundredths)$', '') AS k, \
                            CASE WHEN key ~ '_(cents|hundredths)$' THEN ((value #>> '{}')::numeric * 0.01)::numeric(12,2)::text \
                                 ELSE value #>> '{}' END AS v \
                     FROM jsonb_each(to_jsonb(f))) kv) AS t \
           FROM mart.fact_for_hire_trip f \
           UNION ALL SELECT r::text FROM mart.rejects r \
           UNION ALL SELECT (r.service_id, r.month_id, r.reason, r.source_row, r.row_data)::text FROM mart.reject_samples r \
           UNION ALL SELECT a::text FROM mart.agg_zone_month a \
           UNION ALL SELECT (service_id, month_id, warehouse_rows, fact_rows, rejected_rows, warehouse_total, \
                             fact_total, rejected_total)::text FROM mart.build_log) x",
    )
}

/// The aggregates keyed by pickup borough, every row as it is.
fn aggregates(stack: &Stack) -> String {
    stack.mart_sql(
        "SELECT md5(string_agg(t, '|' ORDER BY t)) FROM ( \
           SELECT a::text AS t FROM mart.agg_daily a \
           UNION ALL SELECT a::text FROM mart.agg_hour_weekday a \
           UNION ALL SELECT a::text FROM mart.agg_fare_distance a \
           UNION ALL SELECT a::text FROM mart.agg_for_hire_month a \
           UNION ALL SELECT a::text FROM mart.agg_wait_hour a) x",
    )
}

/// The city's figures the aggregates give, whatever their keys: the sums over every borough
/// of each day, month, hour, distance and wait bin.
fn city(stack: &Stack) -> String {
    stack.mart_sql(
        "SELECT string_agg(t, '; ' ORDER BY t) FROM ( \
           SELECT format('d %s %s %s %s %s %s %s', service_id, date_id, sum(trips), sum(revenue), sum(fare_sum), \
                         sum(duration_sec_sum), sum(airport_trips)) AS t FROM mart.agg_daily GROUP BY service_id, date_id \
           UNION ALL SELECT format('h %s %s %s %s %s', service_id, month_id, weekday, hour, sum(trips)) \
             FROM mart.agg_hour_weekday GROUP BY service_id, month_id, weekday, hour \
           UNION ALL SELECT format('f %s %s %s %s %s', service_id, month_id, distance_bin::float8, sum(trips), sum(fare_sum)) \
             FROM mart.agg_fare_distance GROUP BY service_id, month_id, distance_bin \
           UNION ALL SELECT format('m %s %s %s %s %s %s %s %s', service_id, month_id, sum(trips), \
                                   sum(passenger_total_sum), sum(driver_pay_sum), sum(tips_sum), sum(wait_sec_sum), \
                                   sum(shared_request_trips)) FROM mart.agg_for_hire_month GROUP BY service_id, month_id \
           UNION ALL SELECT format('w %s %s %s %s %s', service_id, month_id, hour, wait_bin, sum(trips)) \
             FROM mart.agg_wait_hour GROUP BY service_id, month_id, hour, wait_bin) x",
    )
}

/// Per month and licence: the fact's rows and passenger total (in the version's unit), and
/// build_log's rows and money.
fn per_licence(stack: &Stack, total: &str) -> String {
    stack.mart_sql(&format!(
        "SELECT string_agg(format('%s %s %s %s | %s %s %s %s', f.month, s.name, f.rows, f.total, b.warehouse_rows, \
                                  b.fact_rows, b.fact_total, b.rejected_total), '; ' ORDER BY f.month, s.name) \
         FROM (SELECT service_id, to_char(source_month, 'YYYYMM')::int AS month, count(*) AS rows, \
                      sum({total})::numeric(20,2) AS total \
               FROM mart.fact_for_hire_trip GROUP BY 1, 2) f \
         JOIN mart.dim_service s USING (service_id) \
         JOIN mart.build_log b ON (b.service_id, b.month_id) = (f.service_id, f.month)"
    ))
}

#[test]
fn for_hire_months_built_before_migration_8_keep_every_row_and_cent_per_licence() {
    let stack = Stack::start(true);
    for (kind, month, era, rows) in MONTHS {
        stack.put_month(kind, month, era, rows);
    }
    stack.load(TripKind::Fhvhv);
    stack.load(TripKind::Fhv);
    plant_edges(&stack);

    migrate_to_version_7(&stack);
    for (kind, month, _, _) in MONTHS {
        build_by_hand(&stack, V7_INSERTION, kind, month);
    }
    assert_eq!(
        stack.mart_sql(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
                        WHERE attrelid = 'mart.fact_for_hire_trip'::regclass AND attname = 'passenger_total'"
        ),
        "numeric(10,2)"
    );
    let before = contents(&stack);
    let city_before = city(&stack);
    let licences = per_licence(&stack, "passenger_total");
    for service in [" uber ", " lyft ", " HV0099 ", " fhvhv ", " fhv "] {
        assert!(licences.contains(service), "{service}: {licences}");
    }
    // The old build balanced: fact + rejected = warehouse, per licence.
    assert_eq!(
        stack.mart_sql(
            "SELECT count(*) FROM mart.build_log WHERE warehouse_rows <> fact_rows + rejected_rows \
                                                    OR warehouse_total <> fact_total + rejected_total"
        ),
        "0"
    );

    // This release's atl-mart takes the mart as it is: migration 0008, in place.
    let out = Command::new(env!("CARGO_BIN_EXE_atl-mart"))
        .args(["--mart", &stack.mart.url("postgres"), "migrate"])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        stack.mart_sql("SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
                        WHERE attrelid = 'mart.fact_for_hire_trip'::regclass AND attname = 'passenger_total_cents'"),
        "integer"
    );
    assert_eq!(contents(&stack), before, "every row and cent of every month, and their accounting");
    assert_eq!(city(&stack), city_before, "the city's figures, now summed over its boroughs");
    assert!(
        stack.mart_sql("SELECT count(DISTINCT pu_borough_id) FROM mart.agg_daily").parse::<i32>().unwrap()
            > 1,
        "the aggregates are per borough"
    );
    let migrated = aggregates(&stack);
    assert_eq!(per_licence(&stack, "passenger_total_cents * 0.01"), licences);
    // build_log's fact money is still the fact's, to the cent, per licence.
    assert_eq!(
        stack.mart_sql(
            "SELECT count(*) FROM mart.build_log b JOIN mart.dim_service s USING (service_id) \
             WHERE s.kind IN ('fhv', 'fhvhv') AND b.fact_total IS DISTINCT FROM ( \
               SELECT coalesce(sum(passenger_total_cents), 0) * 0.01 FROM mart.fact_for_hire_trip f \
               WHERE f.service_id = b.service_id AND to_char(f.source_month, 'YYYYMM')::int = b.month_id)"
        ),
        "0"
    );

    // The streamed build of the same months writes the same mart, edges included.
    for (kind, month, _, _) in MONTHS {
        stack.build(kind, Some(&format!("{month}..{month}")));
    }
    assert_eq!(contents(&stack), before, "this release's build and the previous one's agree");
    assert_eq!(aggregates(&stack), migrated, "migration 0010 sums what the build sums");
    // The months on the TLC's definition, which the release before did not write.
    let recorded = "SELECT string_agg(r::text, '|' ORDER BY r::text) FROM mart.agg_month_recorded r";
    let streamed = stack.mart_sql(recorded);
    assert_eq!(
        stack.mart_sql(
            "SELECT count(*) FROM mart.agg_month_recorded r JOIN mart.build_log USING (service_id, month_id)"
        ),
        stack.mart_sql("SELECT count(*) FROM mart.build_log"),
        "a row per service and month built: {streamed}"
    );
    for (kind, month, _, _) in MONTHS {
        build_by_hand(&stack, "../../sql/mart/insertion_for_hire.sql", kind, month);
    }
    assert_eq!(contents(&stack), before, "insertion_for_hire.sql by hand and the stream agree");
    assert_eq!(aggregates(&stack), migrated, "insertion_for_hire.sql by hand and the stream agree");
    assert_eq!(
        stack.mart_sql(recorded),
        streamed,
        "the months on the TLC's definition, by hand and streamed"
    );
}
