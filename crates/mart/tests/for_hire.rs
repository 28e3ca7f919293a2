// Over 400 lines: the for-hire accounting helpers (the cleaning rules restated over the warehouse)
// and every test that leans on them, kept in one binary so each helper is written once.
//! The for-hire kinds through the mart: generated HVFHV and other-FHV months of every era, the
//! real 100-row HVFHV slice and hand-made rows, built on a second server and accounted for
//! per service (licence) and reason against the cleaning rules restated over the warehouse.

mod common;

use atl_core::{TripFile, TripKind};
use atl_mart::MoneyCount;
use atl_testdata::Era;
use common::Stack;

/// The licence a warehouse row is accounted under, as the test states it ('-': none).
fn warehouse_key(kind: TripKind) -> &'static str {
    match kind {
        TripKind::Fhvhv => "coalesce(nullif(btrim(hvfhs_license_num), ''), '-')",
        _ => "'-'",
    }
}

/// insertion_for_hire.sql's rules over the warehouse's own columns: rows per licence and
/// reason (clean ones under '-').
fn warehouse_reasons(stack: &Stack, kind: TripKind, month: &str) -> String {
    let hv = kind == TripKind::Fhvhv;
    let zone_bad = |c: &str| format!("coalesce({c} NOT BETWEEN 1 AND 265 OR {c}::numeric % 1 <> 0, {hv})");
    let hv_rules = if hv {
        "WHEN coalesce(round(trip_miles::numeric, 2) <= 0, true) THEN 'distance_not_positive' \
         WHEN trip_miles > 500 THEN 'distance_over_500mi' \
         WHEN base_passenger_fare IS NULL THEN 'amount_missing' \
         WHEN least(base_passenger_fare, tolls, bcf, sales_tax, congestion_surcharge, airport_fee, \
                    cbd_congestion_fee, tips) < 0 THEN 'amount_negative' \
         WHEN EXISTS (SELECT 1 FROM unnest(ARRAY[base_passenger_fare, tolls, bcf, sales_tax, \
                congestion_surcharge, airport_fee, cbd_congestion_fee, tips, driver_pay]) a \
                WHERE abs(a) > 10000) THEN 'amount_over_10000' "
    } else {
        ""
    };
    stack.wh(&format!(
        "SELECT string_agg(k || ':' || reason || '=' || n, ',' ORDER BY k, reason) FROM ( \
           SELECT k, reason, count(*) AS n FROM ( \
             SELECT {key} AS k, CASE \
               WHEN pickup_datetime IS NULL OR dropoff_datetime IS NULL THEN 'timestamp_missing' \
               WHEN date_trunc('month', pickup_datetime) <> source_month THEN 'pickup_outside_month' \
               WHEN dropoff_datetime <= pickup_datetime THEN 'dropoff_not_after_pickup' \
               WHEN dropoff_datetime - pickup_datetime > interval '1 day' THEN 'trip_over_24h' \
               WHEN {pu} OR {do} THEN 'zone_unknown' \
               {hv_rules} ELSE '-' END AS reason \
             FROM raw.{kind}_tripdata WHERE source_month = '{month}-01') r GROUP BY k, reason) c",
        key = warehouse_key(kind),
        pu = zone_bad("pulocationid"),
        do = zone_bad("dolocationid"),
    ))
}

fn mart_reasons(stack: &Stack, kind: TripKind, month: &str) -> String {
    let month_id = month.replace('-', "");
    stack.mart_sql(&format!(
        "SELECT string_agg(k || ':' || reason || '=' || n, ',' ORDER BY k, reason) FROM ( \
           SELECT coalesce(s.licence, '-') AS k, r.reason, r.rows AS n FROM mart.rejects r \
           JOIN mart.dim_service s USING (service_id) WHERE s.kind = '{kind}' AND r.month_id = {month_id} \
           UNION ALL SELECT coalesce(s.licence, '-'), '-', count(*) FROM mart.fact_for_hire_trip f \
           JOIN mart.dim_service s USING (service_id) WHERE s.kind = '{kind}' \
             AND f.source_month = '{month}-01' GROUP BY 1) c"
    ))
}

/// Per licence: warehouse rows and passenger totals = fact + rejected, computed independently
/// on both servers, and build_log saying the same.
fn assert_accounted(stack: &Stack, kind: TripKind, month: &str) {
    let money = atl_core::schema::passenger_total_columns(kind)
        .iter()
        .map(|c| format!("coalesce(round({c}::numeric, 2), 0)"))
        .chain(["0".to_owned()])
        .collect::<Vec<_>>()
        .join(" + ");
    let warehouse = stack.wh(&format!(
        "SELECT string_agg(k || ' ' || n || ' ' || total, ',' ORDER BY k) FROM ( \
           SELECT {key} AS k, count(*) AS n, sum({money})::numeric(20,2) AS total \
           FROM raw.{kind}_tripdata WHERE source_month = '{month}-01' GROUP BY 1) w",
        key = warehouse_key(kind)
    ));
    let month_id = month.replace('-', "");
    let mart = stack.mart_sql(&format!(
        "SELECT string_agg(k || ' ' || n || ' ' || total, ',' ORDER BY k) FROM ( \
           SELECT coalesce(s.licence, '-') AS k, sum(n) AS n, sum(total)::numeric(20,2) AS total FROM ( \
             SELECT service_id, count(*) AS n, sum(passenger_total_cents) * 0.01 AS total FROM mart.fact_for_hire_trip \
             WHERE source_month = '{month}-01' GROUP BY 1 \
             UNION ALL SELECT service_id, rows, total_amount_sum FROM mart.rejects WHERE month_id = {month_id}) x \
           JOIN mart.dim_service s USING (service_id) WHERE s.kind = '{kind}' GROUP BY 1) m"
    ));
    assert_eq!(mart, warehouse, "{kind} {month}: rows and money per licence, mart vs warehouse");
    let log = stack.mart_sql(&format!(
        "SELECT string_agg(coalesce(s.licence, '-') || ' ' || b.warehouse_rows || ' ' \
                           || b.warehouse_total::numeric(20,2), ',' ORDER BY coalesce(s.licence, '-')) \
         FROM mart.build_log b JOIN mart.dim_service s USING (service_id) \
         WHERE s.kind = '{kind}' AND b.month_id = {month_id}"
    ));
    assert_eq!(log, warehouse, "{kind} {month}: build_log per licence");
    assert_eq!(
        mart_reasons(stack, kind, month),
        warehouse_reasons(stack, kind, month),
        "{kind} {month} by reason"
    );
}

/// Per licence, the month on the TLC's definition (`mart.agg_month_recorded`): the
/// warehouse's rows picked up in the month, cleaned or rejected, and their passenger totals;
/// a licence staged with none picked up in the month has 0.
fn assert_recorded(stack: &Stack, kind: TripKind, month: &str) {
    let money = atl_core::schema::passenger_total_columns(kind)
        .iter()
        .map(|c| format!("coalesce(round({c}::numeric, 2), 0)"))
        .chain(["0".to_owned()])
        .collect::<Vec<_>>()
        .join(" + ");
    let in_month = format!(
        "pickup_datetime >= '{month}-01' AND pickup_datetime < '{month}-01'::date + interval '1 month'"
    );
    let warehouse = stack.wh(&format!(
        "SELECT string_agg(k || ' ' || n || ' ' || total, ',' ORDER BY k) FROM ( \
           SELECT {key} AS k, count(*) FILTER (WHERE {in_month}) AS n, \
                  coalesce(sum({money}) FILTER (WHERE {in_month}), 0)::numeric(20,2) AS total \
           FROM raw.{kind}_tripdata WHERE source_month = '{month}-01' GROUP BY 1) w",
        key = warehouse_key(kind)
    ));
    let recorded = stack.mart_sql(&format!(
        "SELECT string_agg(coalesce(s.licence, '-') || ' ' || r.trips || ' ' || r.total_amount_sum::numeric(20,2), ',' \
                           ORDER BY coalesce(s.licence, '-')) \
         FROM mart.agg_month_recorded r JOIN mart.dim_service s USING (service_id) \
         WHERE s.kind = '{kind}' AND r.month_id = {} AND r.card_tip_amount_sum IS NULL",
        month.replace('-', "")
    ));
    assert_eq!(recorded, warehouse, "{kind} {month}: the month on the TLC's definition per licence");
}

fn fingerprint(stack: &Stack) -> String {
    stack.mart_sql(
        "SELECT md5(string_agg(t, '|' ORDER BY t)) FROM ( \
           SELECT f::text AS t FROM mart.fact_for_hire_trip f \
           UNION ALL SELECT a::text FROM mart.agg_daily a \
           UNION ALL SELECT a::text FROM mart.agg_for_hire_month a \
           UNION ALL SELECT a::text FROM mart.agg_wait_hour a \
           UNION ALL SELECT a::text FROM mart.agg_zone_month a \
           UNION ALL SELECT a::text FROM mart.agg_month_recorded a \
           UNION ALL SELECT r::text FROM mart.rejects r \
           UNION ALL SELECT (service_id, month_id, warehouse_rows, fact_rows, rejected_rows, warehouse_total, \
                             fact_total, rejected_total)::text FROM mart.build_log) x",
    )
}

#[test]
fn high_volume_and_other_fhv_months_are_accounted_for_per_licence_and_rebuild_identically() {
    let stack = Stack::start(true);
    let months = [
        (TripKind::Fhvhv, "2019-03", 9_000),
        (TripKind::Fhvhv, "2023-06", 6_000),
        (TripKind::Fhvhv, "2025-02", 6_000),
        (TripKind::Fhv, "2016-06", 4_000),
        (TripKind::Fhv, "2019-03", 4_000),
        (TripKind::Fhv, "2023-06", 4_000),
    ];
    for (kind, month, rows) in months {
        stack.put_month(kind, month, Era::Y2022, rows);
    }
    stack.load(TripKind::Fhvhv);
    stack.load(TripKind::Fhv);
    // Hand-made HVFHV rows: a licence the mart does not know, none, a negative fare, and a
    // tip a half cent off (1.005 is 1.00499... as a double: the mart's rule rounds it to 1.01,
    // the integer shortcut would give 1.00; the stream sees it, and the warehouse counts the
    // month again value by value).
    stack.wh(
        "INSERT INTO raw.fhvhv_tripdata (source_month, source_row, hvfhs_license_num, dispatching_base_num, \
           pickup_datetime, dropoff_datetime, pulocationid, dolocationid, trip_miles, trip_time, \
           base_passenger_fare, tips, driver_pay) VALUES \
         ('2023-06-01', 9000001, 'HV0099', 'B09999', '2023-06-02 10:00', '2023-06-02 10:20', 4, 7, 3.1, 1200, 15.5, 2, 11), \
         ('2023-06-01', 9000002, NULL, 'B03404', '2023-06-02 11:00', '2023-06-02 11:20', 4, 7, 3.1, 1200, 15.5, 0, 11), \
         ('2023-06-01', 9000003, 'HV0003', 'B03404', '2023-06-02 12:00', '2023-06-02 12:20', 4, 7, 3.1, 1200, -4.5, 0, 11), \
         ('2023-06-01', 9000004, 'HV0003', 'B03404', '2023-06-02 13:00', '2023-06-02 13:20', 4, 7, 0.004, 1200, 9, 0, 7), \
         ('2023-06-01', 9000005, 'HV0005', 'B03406', '2023-06-02 14:00', '2023-06-02 14:20', 4, 7, 2.5, 1200, 12, 1.005, 9)",
    );
    // A base first seen in a month the stream builds whole (every licence known), written
    // in lower case between spaces: the stream counts the bases as the fact holds them.
    stack.wh(
        "INSERT INTO raw.fhvhv_tripdata (source_month, source_row, hvfhs_license_num, dispatching_base_num, \
           pickup_datetime, dropoff_datetime, pulocationid, dolocationid, trip_miles, trip_time, \
           base_passenger_fare, tips, driver_pay) VALUES \
         ('2025-02-01', 9000006, 'HV0005', ' b77777 ', '2025-02-03 10:00', '2025-02-03 10:20', 4, 7, 3.1, 1200, 15.5, 2, 11), \
         ('2025-02-01', 9000007, 'HV0005', 'B77777', '2025-02-03 11:00', '2025-02-03 11:20', 4, 7, 3.1, 1200, 15.5, 2, 11), \
         ('2025-02-01', 9000008, 'HV0005', E'b7\\\\7\\t7', '2025-02-03 12:00', '2025-02-03 12:20', 4, 7, 3.1, 1200, 15.5, 2, 11)",
    );
    // A month whose only charge off the whole cents is on a rejected row (a negative fare):
    // the stream checks the rows it stages too, or the count of the month would be a cent off.
    stack.wh(
        "INSERT INTO raw.fhvhv_tripdata (source_month, source_row, hvfhs_license_num, dispatching_base_num, \
           pickup_datetime, dropoff_datetime, pulocationid, dolocationid, trip_miles, trip_time, \
           base_passenger_fare, tips, driver_pay) VALUES \
         ('2019-03-01', 9000009, 'HV0003', 'B03404', '2019-03-02 10:00', '2019-03-02 10:20', 4, 7, 3.1, 1200, -4.5, 0.125, 11)",
    );
    // As if the months had been loaded with them (the mart rebuilds months whose row count
    // differs from the load log's).
    stack.wh("UPDATE raw.load_log SET rows = rows + 1 WHERE kind = 'fhvhv' AND month = '2019-03-01'");
    stack.wh("UPDATE raw.load_log SET rows = rows + 5 WHERE kind = 'fhvhv' AND month = '2023-06-01'");
    stack.wh("UPDATE raw.load_log SET rows = rows + 3 WHERE kind = 'fhvhv' AND month = '2025-02-01'");
    // As if loaded by a release before warehouse migration 6: the warehouse server counts the
    // months beside the stream, in whole cents, and again value by value where the stream met
    // a charge off the whole cents (the 1.005 tip of 2023-06, the 0.125 of 2019-03).
    stack.wh("DELETE FROM raw.load_totals WHERE kind = 'fhvhv'");
    let report = stack.build(TripKind::Fhvhv, None);
    assert_eq!(report.built().count(), 3);
    let counts: Vec<_> =
        report.months.iter().map(|(m, b)| (m.to_string(), b.as_ref().unwrap().money_count)).collect();
    assert_eq!(
        counts,
        [
            ("2019-03".to_owned(), MoneyCount::ValueByValue),
            ("2023-06".to_owned(), MoneyCount::ValueByValue),
            ("2025-02".to_owned(), MoneyCount::InWholeCents)
        ]
    );
    // The other FHV months hold what their loads counted.
    let report = stack.build(TripKind::Fhv, None);
    assert_eq!(report.built().count(), 3);
    assert!(report.built().all(|b| b.money_count == MoneyCount::AtLoad), "{report:?}");
    for (kind, month, _) in months {
        assert_accounted(&stack, kind, month);
        assert_recorded(&stack, kind, month);
    }
    // Neither the staged rows nor the fact: rows picked up outside the month are not counted,
    // rejected rows picked up in it are.
    let [recorded, staged, kept]: [i64; 3] = stack
        .mart_sql(
            "SELECT (SELECT sum(trips) FROM mart.agg_month_recorded) || ' ' || sum(warehouse_rows) || ' ' \
                    || sum(fact_rows) FROM mart.build_log",
        )
        .split(' ')
        .map(|n| n.parse().unwrap())
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    assert!(kept < recorded && recorded < staged, "fact {kept}, recorded {recorded}, staged {staged}");
    // Uber and Lyft by name, every month; the unknown licence kept as its code.
    assert_eq!(
        stack.mart_sql(
            "SELECT string_agg(DISTINCT s.name, ',') FROM mart.build_log b JOIN mart.dim_service s USING (service_id) \
             WHERE b.month_id = 202306 AND s.kind = 'fhvhv'"
        ),
        "HV0099,fhvhv,juno,lyft,uber,via"
    );
    // The negative fare and the 0.004-mile trip (0.00 in the fact) are rejected; the rows
    // without licence or with a new one are kept, and the half-cent tip by the mart's rule.
    assert_eq!(
        stack.mart_sql("SELECT tips_cents FROM mart.fact_for_hire_trip WHERE source_row = 9000005"),
        "101"
    );
    assert_eq!(
        stack.mart_sql(
            "SELECT string_agg(s.name, ',' ORDER BY f.source_row) FROM mart.fact_for_hire_trip f \
             JOIN mart.dim_service s USING (service_id) WHERE f.source_row BETWEEN 9000001 AND 9000005"
        ),
        "HV0099,fhvhv,lyft"
    );
    // A sample is its row as it was staged; ten per licence and reason, or every row of a
    // rarer one; and it shows the value its reason names.
    let (amiss, samples) = stack.samples_amiss(&["fhv", "fhvhv"], "staging_for_hire");
    assert_eq!(amiss, " | ");
    assert!(samples.parse::<u32>().unwrap() > 20, "{samples} samples");
    assert_eq!(
        stack.mart_sql(
            "SELECT count(*) || ' ' || count(*) FILTER (WHERE (row_data->>'source_row')::bigint = source_row \
                 AND CASE reason WHEN 'amount_negative' THEN (SELECT min((row_data->>c)::float8) FROM unnest('{base_passenger_fare,tolls,bcf,\
                                      sales_tax,congestion_surcharge,airport_fee,cbd_congestion_fee,tips}'::text[]) c) < 0 \
                                 WHEN 'distance_not_positive' THEN (row_data->>'trip_miles')::float8 < 0.005 \
                                 ELSE true END) \
             FROM mart.reject_samples WHERE reason IN ('amount_negative', 'distance_not_positive')"
        ),
        stack.mart_sql(
            "SELECT count(*) || ' ' || count(*) FROM mart.reject_samples \
             WHERE reason IN ('amount_negative', 'distance_not_positive')"
        )
    );
    assert_ne!(
        stack.mart_sql("SELECT count(*) FROM mart.reject_samples WHERE reason = 'amount_negative'"),
        "0"
    );
    // Every dispatching base of the fact is in mart.dim_base, and only those; the new one
    // with the licence it dispatched for.
    assert_eq!(
        stack.mart_sql(
            "SELECT count(*) FROM ((SELECT DISTINCT dispatching_base_num FROM mart.fact_for_hire_trip \
                                     WHERE dispatching_base_num IS NOT NULL EXCEPT SELECT base_num FROM mart.dim_base) \
                                    UNION ALL (SELECT base_num FROM mart.dim_base EXCEPT \
                                               SELECT dispatching_base_num FROM mart.fact_for_hire_trip)) x"
        ),
        "0"
    );
    assert_eq!(
        stack.mart_sql(
            "SELECT b.base_num || ' ' || s.name FROM mart.dim_base b JOIN mart.dim_service s USING (service_id) \
             WHERE b.base_num ILIKE '%77777%'"
        ),
        "B77777 lyft"
    );
    // A base with a backslash and a tab (the stream's count crosses as COPY text) is counted
    // as the fact holds it.
    assert_eq!(
        stack.mart_sql(
            "SELECT replace(replace(b.base_num, E'\\\\', '<bs>'), E'\\t', '<tab>') || ' ' || s.name \
             FROM mart.dim_base b JOIN mart.dim_service s USING (service_id) WHERE b.base_num LIKE 'B7%7' AND b.base_num <> 'B77777'"
        ),
        "B7<bs>7<tab>7 lyft"
    );
    // One query audits every kind: each service and month balances.
    assert_eq!(
        stack.mart_sql(
            "SELECT count(*) FILTER (WHERE warehouse_rows <> fact_rows + rejected_rows \
                                       OR warehouse_total <> fact_total + rejected_total) || ' of ' || count(*) \
             FROM mart.build_log"
        ),
        format!("0 of {}", stack.mart_sql("SELECT count(*) FROM mart.build_log"))
    );
    // Wait times: only requests before the pickup; the bins hold every trip with a wait.
    assert_eq!(
        stack.mart_sql("SELECT sum(trips) FROM mart.agg_wait_hour"),
        stack.mart_sql("SELECT count(*) FROM mart.fact_for_hire_trip WHERE wait_sec IS NOT NULL")
    );
    assert_eq!(stack.mart_sql("SELECT count(*) FROM mart.fact_for_hire_trip WHERE request_at > pickup_at AND wait_sec IS NOT NULL"), "0");

    // Nothing to do on a second run; an explicit rebuild writes the same mart.
    assert_eq!(stack.build(TripKind::Fhvhv, None).months.len(), 0);
    let before = fingerprint(&stack);
    for (kind, month, _) in months {
        stack.build(kind, Some(&format!("{month}..{month}")));
    }
    assert_eq!(fingerprint(&stack), before);
}

#[test]
fn the_real_high_volume_slice_is_uber_78_and_lyft_22() {
    let stack = Stack::start(true);
    // The real TLC file, kept in the repository.
    let sample = atl_testdata::real::path(atl_testdata::real::FHVHV_2022_01_HEAD100);
    let month = "2022-01".parse().unwrap();
    let key = stack.lake_dir.path().join(TripFile::new(TripKind::Fhvhv, month).lake_key());
    std::fs::create_dir_all(key.parent().unwrap()).unwrap();
    std::fs::copy(&sample, &key).unwrap_or_else(|e| panic!("{}: {e}", sample.display()));
    stack.load(TripKind::Fhvhv);
    stack.build(TripKind::Fhvhv, None);
    assert_accounted(&stack, TripKind::Fhvhv, "2022-01");
    assert_eq!(
        stack.mart_sql(
            "SELECT string_agg(s.name || '=' || b.warehouse_rows, ',' ORDER BY s.name) \
             FROM mart.build_log b JOIN mart.dim_service s USING (service_id)"
        ),
        "lyft=22,uber=78"
    );
    // One build for both: the same time and speed (all 100 rows) on each service's row.
    assert_eq!(
        stack.mart_sql(
            "SELECT count(DISTINCT (seconds, rows_per_sec)) || ' ' || \
                    bool_and(abs(rows_per_sec * seconds - 100) < 0.01) FROM mart.build_log"
        ),
        "1 true"
    );
    // The Lyft rows have no on-scene time; their wait still comes from the request.
    assert_eq!(
        stack.mart_sql(
            "SELECT count(*) FILTER (WHERE on_scene_at IS NULL) || ' ' || count(wait_sec) \
             FROM mart.fact_for_hire_trip WHERE service_id = 8"
        ),
        stack
            .mart_sql("SELECT count(*) || ' ' || count(*) FROM mart.fact_for_hire_trip WHERE service_id = 8")
    );
}

/// A month the warehouse holds as loaded is accounted for with the figures its load counted
/// from the file (`raw.load_totals`); figures the rows read do not add up to are not taken:
/// the warehouse counts the month again, and the build's accounting is the rows'.
#[test]
fn the_loads_own_count_is_taken_only_where_the_rows_read_add_up_to_it() {
    let stack = Stack::start(true);
    stack.put_month(TripKind::Fhvhv, "2024-02", Era::Y2024, 5_000);
    stack.load(TripKind::Fhvhv);
    let at_load = "SELECT string_agg(coalesce(licence, '-') || ' ' || rows || ' ' || passenger_cents, ',' \
                   ORDER BY licence) FROM raw.load_totals WHERE kind = 'fhvhv'";
    let counted = stack.wh(at_load);
    assert!(counted.contains("HV0003 ") && counted.contains("HV0005 "), "{counted}");
    // And rows of HV0099, a licence the mart does not list: the stream stops at the first,
    // registers it and splits that row again. The load's figures are taken only if the stream
    // counted that row once.
    assert!(counted.contains("HV0099 "), "{counted}");
    let report = stack.build(TripKind::Fhvhv, None);
    let built = report.built().collect::<Vec<_>>();
    assert_eq!(built.iter().map(|b| b.money_count).collect::<Vec<_>>(), [MoneyCount::AtLoad]);
    assert_accounted(&stack, TripKind::Fhvhv, "2024-02");

    // A cent too many in Uber's count, and a row more in Lyft's: the rows' figures stand.
    for wrong in [
        "UPDATE raw.load_totals SET passenger_cents = passenger_cents + 1 WHERE licence = 'HV0003'",
        "UPDATE raw.load_totals SET rows = rows + 1 WHERE licence = 'HV0005'",
    ] {
        stack.wh(wrong);
        let report = stack.build(TripKind::Fhvhv, Some("2024-02"));
        let built = report.built().collect::<Vec<_>>();
        assert_eq!(
            built.iter().map(|b| b.money_count).collect::<Vec<_>>(),
            [MoneyCount::ValueByValue],
            "{wrong}"
        );
        assert_accounted(&stack, TripKind::Fhvhv, "2024-02");
        stack.wh(&format!("UPDATE raw.load_totals SET (rows, passenger_cents) = (t.rows, t.cents) FROM \
             (SELECT split_part(x, ' ', 1) AS l, split_part(x, ' ', 2)::bigint AS rows, split_part(x, ' ', 3)::numeric AS cents \
              FROM unnest(string_to_array('{counted}', ',')) x) t WHERE licence = t.l"));
        assert_eq!(stack.wh(at_load), counted);
    }
}

#[test]
fn kill_9_mid_high_volume_build_keeps_the_previous_month_and_the_rerun_completes() {
    let stack = Stack::start(true);
    stack.put_month(TripKind::Fhvhv, "2024-03", Era::Y2024, 2_000);
    stack.load(TripKind::Fhvhv);
    let lake_url = format!("file://{}", stack.lake_dir.path().display());
    let run = || {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_atl-mart"));
        command
            .args(["--warehouse", &stack.warehouse.url("postgres"), "--mart", &stack.mart.url("postgres")])
            .args(["--lake", &lake_url, "build", "--kind", "fhvhv"])
            .env("RUST_LOG", "warn,sqlx=error");
        command
    };
    assert!(run().status().unwrap().success());
    let before = fingerprint(&stack);
    let month_rows = "SELECT sum(warehouse_rows) FROM mart.build_log";
    assert_eq!(stack.mart_sql(month_rows), "2000");

    // A bigger version of the month reaches the warehouse; the build dies inside
    // insertion_for_hire.sql, after the whole month was staged and its partition swapped in:
    // held there by a lock on an aggregate only the file's last steps write, for as long as
    // the test needs.
    stack.put_month(TripKind::Fhvhv, "2024-03", Era::Y2024, 600_000);
    stack.load(TripKind::Fhvhv);
    let mut holder = stack.rt.block_on(atl_mart::connect(&stack.mart_db())).unwrap();
    let hold = "BEGIN; LOCK TABLE mart.agg_fare_distance IN ACCESS EXCLUSIVE MODE";
    stack.rt.block_on(sqlx::raw_sql(hold).execute(&mut holder)).unwrap();
    let mut child = run().spawn().unwrap();
    let inserting = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() \
                     AND application_name = 'atl-mart insertion_for_hire.sql'";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while stack.mart_sql(&format!("{inserting} AND wait_event_type = 'Lock'")) == "0" {
        assert!(std::time::Instant::now() < deadline, "insertion_for_hire.sql never reached the aggregates");
        assert!(child.try_wait().unwrap().is_none(), "the build finished before it could be killed");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while stack.mart_sql(inserting) != "0" {
        assert!(std::time::Instant::now() < deadline, "the killed build is still running");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    stack.rt.block_on(sqlx::raw_sql("ROLLBACK").execute(&mut holder)).unwrap();
    assert_eq!(fingerprint(&stack), before, "the previous month must be intact");
    assert_eq!(stack.mart_sql("SELECT count(*) FROM pg_class WHERE relname = 'fact_for_hire_build'"), "0");

    assert!(run().status().unwrap().success());
    assert_eq!(stack.mart_sql(month_rows), "600000");
    assert_accounted(&stack, TripKind::Fhvhv, "2024-03");
}

/// `atl-mart build --kind <kind>` over the stack's servers and lake: its output, once it has
/// succeeded.
fn build_with_the_binary(stack: &Stack, kind: &str) -> String {
    let lake_url = format!("file://{}", stack.lake_dir.path().display());
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_atl-mart"))
        .args(["--warehouse", &stack.warehouse.url("postgres"), "--mart", &stack.mart.url("postgres")])
        .args(["--lake", &lake_url, "build", "--kind", kind])
        .env("RUST_LOG", "warn,sqlx=error")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{text}{}", String::from_utf8_lossy(&output.stderr));
    text
}

#[test]
fn build_kind_all_builds_every_kind_the_warehouse_holds() {
    let stack = Stack::start(true);
    stack.put_month(TripKind::Yellow, "2024-02", Era::Y2024, 3_000);
    stack.put_month(TripKind::Fhvhv, "2024-02", Era::Y2024, 3_000);
    stack.put_month(TripKind::Fhv, "2024-02", Era::Y2024, 3_000);
    for kind in [TripKind::Yellow, TripKind::Fhvhv, TripKind::Fhv] {
        stack.load(kind);
    }
    // A licence no company is known for (the TLC may license a new one): kept, and named.
    stack.wh("UPDATE raw.fhvhv_tripdata SET hvfhs_license_num = 'HV0099' WHERE source_row % 10 = 0");
    let text = build_with_the_binary(&stack, "all");
    for line in [
        "mart: 1 yellow months built",
        "mart: 0 green months built",
        "mart: 1 fhvhv months built",
        "mart: 1 fhv months built",
    ] {
        assert!(text.contains(line), "{line}: {text}");
    }
    assert_eq!(
        stack.mart_sql(
            "SELECT string_agg(DISTINCT s.kind, ',' ORDER BY s.kind) || ' ' || sum(b.warehouse_rows) \
             FROM mart.build_log b JOIN mart.dim_service s USING (service_id)"
        ),
        "fhv,fhvhv,yellow 9000"
    );
    for kind in [TripKind::Fhvhv, TripKind::Fhv] {
        assert_accounted(&stack, kind, "2024-02");
    }
    assert!(
        text.contains(
            "note: licence HV0099 is not a company the mart knows: its trips are kept, as service HV0099"
        ),
        "{text}"
    );
    // The new licence is registered as the stream meets it: its rows are streamed like the
    // others, and the SQL does not sum the month's roll-ups again.
    assert!(!text.contains("left to the insertion SQL"), "{text}");
    assert_eq!(
        stack.mart_sql("SELECT b.warehouse_rows FROM mart.build_log b JOIN mart.dim_service s USING (service_id) WHERE s.name = 'HV0099'"),
        stack.wh("SELECT count(*) FROM raw.fhvhv_tripdata WHERE hvfhs_license_num = 'HV0099'")
    );
}

/// Licences the mart does not list, met mid-stream (after the stream has sent more than a COPY
/// chunk of the partition: updated rows come last in the warehouse's scan): two new ones,
/// one with spaces around it, are registered and streamed like the others; one coded as an
/// existing service's name is refused, its clean rows left to the SQL (and said so), which
/// puts them under the kind's own service. The build's accounting holds for all of them.
#[test]
fn licences_met_mid_stream_are_registered_or_left_to_the_sql() {
    let stack = Stack::start(true);
    stack.put_month(TripKind::Fhvhv, "2024-02", Era::Y2024, 12_000);
    stack.load(TripKind::Fhvhv);
    stack.wh(
        "UPDATE raw.fhvhv_tripdata SET hvfhs_license_num = CASE WHEN source_row % 1000 = 999 THEN 'HV0098' \
         WHEN source_row % 1000 = 500 THEN 'uber' ELSE ' HV0097 ' END \
         WHERE source_row % 1000 IN (999, 500) OR (source_row > 10000 AND source_row % 10 = 3)",
    );
    let text = build_with_the_binary(&stack, "fhvhv");
    let in_fact = |rows: &str, service: &str| {
        stack.mart_sql(&format!(
            "SELECT count(*) FILTER (WHERE s.name = '{service}') || '/' || count(*) FROM mart.fact_for_hire_trip f \
             JOIN mart.dim_service s USING (service_id) WHERE {rows}"
        ))
    };
    let all_of = |counts: String| {
        let (of, all) = counts.split_once('/').unwrap();
        assert_eq!(of, all, "{counts}");
        assert_ne!(all, "0");
        all.to_owned()
    };
    all_of(in_fact("f.source_row % 1000 = 999", "HV0098"));
    all_of(in_fact("f.source_row > 10000 AND f.source_row % 10 = 3", "HV0097"));
    let refused = all_of(in_fact("f.source_row % 1000 = 500", "fhvhv"));
    assert!(
        text.contains(&format!("fhvhv 2024-02: {refused} clean rows were left to the insertion SQL")),
        "{text}"
    );
    assert_eq!(
        stack.mart_sql("SELECT string_agg(name || '=' || licence, ',' ORDER BY name) FROM mart.dim_service WHERE service_id >= 100"),
        // HV0099: the generator's own new licence. No service for 'uber'.
        "HV0097=HV0097,HV0098=HV0098,HV0099=HV0099"
    );
}
