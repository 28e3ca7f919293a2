//! Every era's physical schema, as the generator writes it, maps onto the canonical schema
//! without losing a value.

use std::fs::File;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float64Type, Int32Type, TimestampMicrosecondType};
use atl_core::{SchemaMapping, TripKind, YearMonth};
use atl_testdata::{Era, TripFileSpec, write_trip_file_to};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn read(path: &std::path::Path) -> Vec<RecordBatch> {
    let reader =
        ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap().build().unwrap();
    reader.map(Result::unwrap).collect()
}

fn f64_sum(batch: &RecordBatch, name: &str) -> f64 {
    let col = arrow::compute::cast(batch.column_by_name(name).unwrap(), &DataType::Float64).unwrap();
    col.as_primitive::<Float64Type>().iter().flatten().sum()
}

#[test]
fn every_era_of_yellow_and_green_maps_losslessly() {
    let dir = tempfile::tempdir().unwrap();
    let month: YearMonth = "2023-03".parse().unwrap();
    for kind in [TripKind::Yellow, TripKind::Green] {
        for era in Era::ALL {
            let spec = TripFileSpec::new(kind, month, 5_000).era(era).row_group_rows(2_000);
            let path = dir.path().join(format!("{kind}-{era:?}.parquet"));
            let written = write_trip_file_to(&spec, &path).unwrap();
            assert_eq!((written.rows, written.row_groups), (5_000, 3));

            let batches = read(&path);
            let file_schema = batches[0].schema();
            assert_eq!(file_schema.as_ref(), spec.physical_schema().as_ref(), "{kind} {era:?}");
            let mapping = SchemaMapping::new(kind, &file_schema, path.to_str().unwrap())
                .unwrap_or_else(|e| panic!("{kind} {era:?}: {e}"));
            let mut rows = 0;
            for batch in &batches {
                let mapped = mapping.apply(batch).unwrap();
                assert_eq!(mapped.schema(), *mapping.canonical());
                rows += mapped.num_rows();
                // Same money, same codes, same instants after the mapping.
                assert_eq!(f64_sum(batch, "total_amount"), f64_sum(&mapped, "total_amount"));
                let passengers = file_schema.fields().iter().find(|f| f.name() == "passenger_count").unwrap();
                assert_eq!(f64_sum(batch, passengers.name()), f64_sum(&mapped, "passenger_count"));
                let pickup_name = atl_core::schema::pickup_column(kind).unwrap();
                let original = batch.column_by_name(pickup_name).unwrap();
                let as_micros = arrow::compute::cast(
                    original,
                    &DataType::Timestamp(arrow::datatypes::TimeUnit::Microsecond, None),
                )
                .unwrap();
                let canonical = mapped.column_by_name(pickup_name).unwrap();
                assert_eq!(
                    as_micros.as_primitive::<TimestampMicrosecondType>().values(),
                    canonical.as_primitive::<TimestampMicrosecondType>().values()
                );
                let vendor = mapped.column_by_name("vendorid").unwrap().as_primitive::<Int32Type>();
                assert_eq!(vendor.null_count(), 0);
            }
            assert_eq!(rows, 5_000);
            let missing = mapping.missing_columns();
            assert_eq!(missing.contains(&"congestion_surcharge"), era == Era::Y2018, "{kind} {era:?}");
            assert_eq!(missing.contains(&"cbd_congestion_fee"), era != Era::Y2025, "{kind} {era:?}");
        }
    }
}

#[test]
fn generated_files_carry_the_defects_of_real_ones() {
    let dir = tempfile::tempdir().unwrap();
    let month: YearMonth = "2024-02".parse().unwrap();
    let spec = TripFileSpec::new(TripKind::Yellow, month, 50_000);
    let path = dir.path().join("y.parquet");
    write_trip_file_to(&spec, &path).unwrap();
    let batches = read(&path);
    let mapping = SchemaMapping::new(TripKind::Yellow, &batches[0].schema(), "y").unwrap();
    let (mut negative, mut zero_distance, mut outside, mut null_passengers, mut backwards) = (0, 0, 0, 0, 0);
    let mut zones = std::collections::BTreeSet::new();
    for batch in &batches {
        let b = mapping.apply(batch).unwrap();
        let total = b.column_by_name("total_amount").unwrap().as_primitive::<Float64Type>();
        let distance = b.column_by_name("trip_distance").unwrap().as_primitive::<Float64Type>();
        let pickup =
            b.column_by_name("tpep_pickup_datetime").unwrap().as_primitive::<TimestampMicrosecondType>();
        let dropoff =
            b.column_by_name("tpep_dropoff_datetime").unwrap().as_primitive::<TimestampMicrosecondType>();
        let passengers = b.column_by_name("passenger_count").unwrap();
        let pu = b.column_by_name("pulocationid").unwrap().as_primitive::<Int32Type>();
        null_passengers += passengers.null_count();
        for i in 0..b.num_rows() {
            negative += (total.value(i) < 0.0) as usize;
            zero_distance += (distance.value(i) == 0.0) as usize;
            let t = chrono::DateTime::from_timestamp_micros(pickup.value(i)).unwrap().naive_utc();
            outside += (!month.contains(t)) as usize;
            backwards += (dropoff.value(i) < pickup.value(i)) as usize;
            zones.insert(pu.value(i));
        }
    }
    let share = |n: usize| n as f64 / 50_000.0;
    assert!((0.005..0.02).contains(&share(negative)), "negative totals {negative}");
    assert!((0.005..0.02).contains(&share(zero_distance)), "zero distances {zero_distance}");
    assert!((0.002..0.01).contains(&share(outside)), "out of month {outside}");
    assert!((0.02..0.04).contains(&share(null_passengers)), "null passengers {null_passengers}");
    assert!(backwards > 0, "no dropoff before pickup");
    assert!(zones.len() > 200 && zones.iter().all(|z| (1..=265).contains(z)), "{} zones", zones.len());
}

#[test]
fn a_seed_always_gives_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let spec = TripFileSpec::new(TripKind::Green, "2019-06".parse().unwrap(), 3_000);
    let (a, b) = (dir.path().join("a.parquet"), dir.path().join("b.parquet"));
    write_trip_file_to(&spec, &a).unwrap();
    write_trip_file_to(&spec, &b).unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    write_trip_file_to(&spec.clone().seed(7), &b).unwrap();
    assert_ne!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}
