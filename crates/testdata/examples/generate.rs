//! Writes generated TLC months in the CDN's layout, for mirrors in tests and demos:
//! `<out>/trip-data/<kind>_tripdata_<YYYY-MM>.parquet` and `<out>/misc/taxi_zone_lookup.csv`.
//!
//! `cargo run -p atl-testdata --example generate -- --kind yellow --months 2024-01..2024-02 --rows 20000 --out mirror`
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;

use atl_core::{MonthRange, TripFile, TripKind};
use atl_testdata::{TripFileSpec, write_trip_file_to, zone_table_csv};

fn main() {
    let mut kind = TripKind::Yellow;
    let mut months: Option<MonthRange> = None;
    let mut rows = 10_000usize;
    let mut out: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        match flag.as_str() {
            "--kind" => kind = value.parse().unwrap_or_else(|e| usage(&format!("{e}"))),
            "--months" => months = Some(value.parse().unwrap_or_else(|e| usage(&format!("{e}")))),
            "--rows" => rows = value.parse().unwrap_or_else(|_| usage("--rows takes a number")),
            "--out" => out = Some(PathBuf::from(value)),
            _ => usage(&format!("unknown flag {flag}")),
        }
    }
    let (Some(months), Some(out)) = (months, out) else { usage("--months and --out are required") };
    for month in months.iter() {
        let file = TripFile::new(kind, month);
        let path = out.join(file.source_path());
        let written = write_trip_file_to(&TripFileSpec::new(kind, month, rows), &path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        println!("{} ({} rows)", path.display(), written.rows);
    }
    let zones = out.join(atl_core::ZONES_SOURCE_PATH);
    std::fs::create_dir_all(zones.parent().expect("has a parent")).expect("create misc/");
    std::fs::write(&zones, zone_table_csv()).expect("write the zone table");
    println!("{}", zones.display());
}

fn usage(problem: &str) -> ! {
    eprintln!("{problem}\nusage: generate --kind yellow --months 2024-01..2024-02 --rows 20000 --out DIR");
    std::process::exit(2)
}
