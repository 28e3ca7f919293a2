//! Writes generated TLC months in the CDN's layout, for mirrors in tests and demos:
//! `<out>/trip-data/<kind>_tripdata_<YYYY-MM>.parquet`, `<out>/misc/taxi_zone_lookup.csv` and
//! `taxi_zones.zip`, and `<out>/reports/data_reports_monthly.csv` (the TLC's figures for the
//! generated months); `--reference-only` writes only the last three.
//!
//! `cargo run -p atl-testdata --example generate -- --kind yellow --months 2024-01..2024-02 --rows 20000 --out mirror`
//!
//! `--row-group-rows N` sets the rows per row group (the official months we hold are each one
//! row group).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;

use atl_core::{MonthRange, TripFile, TripKind};
use atl_testdata::reference::{IndicatorRow, indicators_csv, zone_shapes_zip};
use atl_testdata::{TripFileSpec, write_trip_file_to, zone_table_csv};

/// Where the mirror serves the TLC's monthly indicators (`source.indicators_url` is this
/// path under the mirror's base URL).
const INDICATORS_PATH: &str = "reports/data_reports_monthly.csv";

fn main() {
    let mut kind = TripKind::Yellow;
    let mut months: Option<MonthRange> = None;
    let mut rows = 10_000usize;
    let mut group_rows: Option<usize> = None;
    let mut out: Option<PathBuf> = None;
    let mut reference_only = false;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--reference-only" {
            reference_only = true;
            continue;
        }
        let value = args.next().unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        match flag.as_str() {
            "--kind" => kind = value.parse().unwrap_or_else(|e| usage(&format!("{e}"))),
            "--months" => months = Some(value.parse().unwrap_or_else(|e| usage(&format!("{e}")))),
            "--rows" => rows = value.parse().unwrap_or_else(|_| usage("--rows takes a number")),
            "--row-group-rows" => {
                group_rows = Some(value.parse().unwrap_or_else(|_| usage("--row-group-rows takes a number")))
            }
            "--out" => out = Some(PathBuf::from(value)),
            _ => usage(&format!("unknown flag {flag}")),
        }
    }
    let (Some(months), Some(out)) = (months, out) else { usage("--months and --out are required") };
    for month in months.iter().filter(|_| !reference_only) {
        let file = TripFile::new(kind, month);
        let path = out.join(file.source_path());
        let mut spec = TripFileSpec::new(kind, month, rows);
        if let Some(n) = group_rows {
            spec = spec.row_group_rows(n);
        }
        let written = write_trip_file_to(&spec, &path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        println!("{} ({} rows)", path.display(), written.rows);
    }
    let zones = out.join(atl_core::ZONES_SOURCE_PATH);
    std::fs::create_dir_all(zones.parent().expect("has a parent")).expect("create misc/");
    std::fs::write(&zones, zone_table_csv()).expect("write the zone table");
    println!("{}", zones.display());
    let shapes = out.join(atl_core::ZONE_SHAPES_SOURCE_PATH);
    std::fs::write(&shapes, zone_shapes_zip()).expect("write the zone shapes");
    println!("{}", shapes.display());
    // The TLC's own figures for the months, as if every generated row were a recorded trip.
    let class = match kind {
        TripKind::Yellow => "Yellow",
        TripKind::Green => "Green",
        TripKind::Fhv => "FHV - Other",
        TripKind::Fhvhv => "FHV - High Volume",
    };
    let indicators: Vec<IndicatorRow> = months
        .iter()
        .map(|month| IndicatorRow {
            month,
            licence_class: class,
            trips_per_day: rows as f64 / f64::from(month.days()),
            farebox_per_day: (!kind.is_for_hire()).then_some(rows as f64 * 20.0 / f64::from(month.days())),
        })
        .collect();
    let path = out.join(INDICATORS_PATH);
    std::fs::create_dir_all(path.parent().expect("has a parent")).expect("create reports/");
    std::fs::write(&path, indicators_csv(&indicators, false)).expect("write the indicators");
    println!("{}", path.display());
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "{problem}\nusage: generate --kind yellow --months 2024-01..2024-02 --rows 20000 --out DIR [--row-group-rows N] [--reference-only]"
    );
    std::process::exit(2)
}
