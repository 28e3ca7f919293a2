//! The for-hire services in the warehouse: generated high-volume FHV and FHV months of every
//! physical era load into `raw.fhvhv_tripdata` / `raw.fhv_tripdata` with every column equal
//! to the Parquet (audit), keep the real files' oddities as they are, and count their money
//! per licence at load time only where the count is exact.

mod common;

use atl_core::TripKind;
use atl_testdata::TripFileSpec;
use atl_warehouse::LoadRequest;
use common::{Stack, rt};

const ROWS: usize = 4_000;

fn load_and_audit(stack: &Stack, kind: TripKind, months: &[&str]) {
    for month in months {
        let spec = TripFileSpec::new(kind, month.parse().unwrap(), ROWS).row_group_rows(1_500);
        stack.put_spec(&spec);
    }
    let rt = rt();
    let report =
        rt.block_on(atl_warehouse::load(&stack.db(), &stack.lake, &LoadRequest::new(kind), |_| {})).unwrap();
    let failures: Vec<String> = report.failures().map(|(f, e)| format!("{f}: {e}")).collect();
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(report.loaded().count(), months.len());
    assert!(report.loaded().all(|r| r.rows == ROWS as i64 && r.total_amount_sum.is_none()));
    let table = atl_core::RawTable::new(kind).unwrap().parent();
    assert_eq!(stack.count(&table), (ROWS * months.len()) as i64);
    // Each load counted its rows and money per licence as it read them.
    let (logged, rows) = stack.load_totals_and_rows(kind);
    assert_eq!(logged, rows, "{kind}: raw.load_totals against the rows loaded");
    for month in months {
        assert!(logged.contains(&format!("{month}-01 ")), "{month} missing from {logged}");
    }

    let audits = rt.block_on(atl_warehouse::audit(&stack.db(), &stack.lake, kind, None)).unwrap();
    assert_eq!(audits.len(), months.len());
    for audit in &audits {
        assert!(audit.mismatches().is_empty(), "{:?}", audit.mismatches());
        assert_eq!(audit.columns.len(), atl_core::schema::canonical_columns(kind).unwrap().len());
    }
}

#[test]
fn high_volume_months_of_every_era_load_column_for_column() {
    let stack = Stack::start();
    // int64 zones and an all-null int32 wav_match_flag; int64; int32 zones; cbd_congestion_fee.
    load_and_audit(&stack, TripKind::Fhvhv, &["2019-03", "2022-01", "2023-06", "2025-02"]);
    // Lyft rows keep their missing originating base and on-scene time; the 2022 flag is ' '.
    let lyft = stack.sql(
        "SELECT count(*) FILTER (WHERE originating_base_num IS NULL AND on_scene_datetime IS NULL), count(*) \
         FROM raw.fhvhv_tripdata WHERE hvfhs_license_num = 'HV0005'",
    );
    let (without, all) = lyft.split_once('|').unwrap();
    assert_eq!(without, all, "every Lyft row lacks originating base and on-scene time");
    assert!(all.parse::<i64>().unwrap() > 0);
    assert_eq!(
        stack.sql(
            "SELECT string_agg(DISTINCT '[' || access_a_ride_flag || ']', '') FROM raw.fhvhv_tripdata \
             WHERE source_month = '2022-01-01'"
        ),
        "[ ]"
    );
    assert_eq!(
        stack.sql("SELECT count(wav_match_flag) FROM raw.fhvhv_tripdata WHERE source_month = '2019-03-01'"),
        "0"
    );
    let odd = stack.sql(
        "SELECT count(*) FILTER (WHERE request_datetime > pickup_datetime) > 0, \
                count(*) FILTER (WHERE driver_pay < 0) > 0, count(*) FILTER (WHERE trip_time = 0) > 0, \
                count(cbd_congestion_fee) FILTER (WHERE source_month < '2025-01-01') \
         FROM raw.fhvhv_tripdata",
    );
    assert_eq!(odd, "t|t|t|0");
}

#[test]
fn fhv_months_of_every_era_load_column_for_column() {
    let stack = Stack::start();
    // double zones and all-null int32 SR_Flag; double SR_Flag; int64 both.
    load_and_audit(&stack, TripKind::Fhv, &["2016-06", "2019-03", "2023-06"]);
    assert_eq!(
        stack.sql("SELECT count(sr_flag) FROM raw.fhv_tripdata WHERE source_month = '2016-06-01'"),
        "0"
    );
    assert_eq!(
        stack.sql("SELECT count(sr_flag) > 0 FROM raw.fhv_tripdata WHERE source_month = '2023-06-01'"),
        "t"
    );
}

/// Rewrites the Parquet file at `path` with its first row's `column` (a double) set to `value`.
fn set_first_value(path: &std::path::Path, column: &str, value: f64) {
    use std::sync::Arc;

    use arrow::array::{Array, Float64Array};
    use parquet::arrow::ArrowWriter;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap()).unwrap();
    let schema = reader.schema().clone();
    let mut batches: Vec<_> = reader.build().unwrap().map(Result::unwrap).collect();
    let at = schema.index_of(column).unwrap();
    let old = batches[0].column(at).as_any().downcast_ref::<Float64Array>().unwrap().clone();
    let new: Float64Array = (0..old.len())
        .map(|i| if i == 0 { Some(value) } else { old.is_valid(i).then(|| old.value(i)) })
        .collect();
    let mut columns = batches[0].columns().to_vec();
    columns[at] = Arc::new(new);
    batches[0] = arrow::record_batch::RecordBatch::try_new(schema.clone(), columns).unwrap();
    let mut writer = ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None).unwrap();
    for batch in &batches {
        writer.write(batch).unwrap();
    }
    writer.close().unwrap();
}

#[test]
fn a_month_with_a_charge_off_the_whole_cents_loads_whole_without_the_load_s_count() {
    let stack = Stack::start();
    for month in ["2023-05", "2023-06"] {
        stack.put_spec(&TripFileSpec::new(TripKind::Fhvhv, month.parse().unwrap(), ROWS));
    }
    // 1.005 is 100.4999... cents as a double: the rounding rule's shortcut does not hold, so
    // the loader cannot say what the mart's numeric rounding will make of it.
    let odd = stack.path_of(atl_core::TripFile::new(TripKind::Fhvhv, "2023-06".parse().unwrap()));
    set_first_value(&odd, "tips", 1.005);
    let report = rt()
        .block_on(atl_warehouse::load(&stack.db(), &stack.lake, &LoadRequest::new(TripKind::Fhvhv), |_| {}))
        .unwrap();
    assert_eq!(report.failures().count(), 0);
    assert_eq!(report.loaded().count(), 2);
    assert_eq!(
        stack.sql(
            "SELECT string_agg(source_month || ' ' || n, ',' ORDER BY source_month) FROM \
             (SELECT source_month, count(*) AS n FROM raw.fhvhv_tripdata GROUP BY 1) t"
        ),
        format!("2023-05-01 {ROWS},2023-06-01 {ROWS}")
    );
    assert_eq!(stack.sql("SELECT count(*) FROM raw.fhvhv_tripdata WHERE tips = 1.005"), "1");
    // The whole-cents month has its figures, and they are its rows'; the odd one has none.
    assert_eq!(
        stack.sql("SELECT string_agg(DISTINCT month::text, ',') FROM raw.load_totals WHERE kind = 'fhvhv'"),
        "2023-05-01"
    );
    let (logged, rows) = stack.load_totals_and_rows(TripKind::Fhvhv);
    let may: Vec<&str> = rows.split(',').filter(|r| r.starts_with("2023-05-01 ")).collect();
    assert_eq!(logged, may.join(","));
}
