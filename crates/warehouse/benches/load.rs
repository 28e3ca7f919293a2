//! `cargo xtask bench warehouse`: the loader's rows/s next to the physical limit measured
//! on the same server in the same run — a server-side `COPY ... FROM '<file>' (FORMAT
//! binary)` of the same rows — and the loader's peak RSS.
//!
//! Rows: `ATL_BENCH_ROWS` (default 3,000,000), one generated yellow month.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::process::Command;
use std::time::Instant;

use atl_core::{DatabaseConfig, SchemaMapping, Secret, TripFile, TripKind, YearMonth};
use atl_devservices::PgServer;
use atl_lake::Lake;
use atl_testdata::{TripFileSpec, write_trip_file_to};
use atl_warehouse::encode::{CopyEncoder, Lineage};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn main() {
    let rows: usize = std::env::var("ATL_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(3_000_000);
    let pg = PgServer::temp().expect("a temp PostgreSQL server");
    let db = DatabaseConfig { url: Secret::new(pg.url("postgres")), parallelism: 1 };
    let work = tempfile::tempdir().unwrap();
    let lake = Lake::create_folder(&work.path().join("lake")).unwrap();
    let month: YearMonth = "2023-01".parse().unwrap();
    let file = TripFile::new(TripKind::Yellow, month);
    let parquet_path = work.path().join("lake").join(file.lake_key());
    let clock = Instant::now();
    write_trip_file_to(&TripFileSpec::new(TripKind::Yellow, month, rows), &parquet_path).unwrap();
    let size = std::fs::metadata(&parquet_path).unwrap().len();
    eprintln!(
        "generated {rows} rows ({:.1} MB Parquet) in {:.1} s",
        size as f64 / 1e6,
        clock.elapsed().as_secs_f64()
    );

    // The loader, as users run it: the `atl-warehouse` binary, its peak RSS read from /proc.
    let clock = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_atl-warehouse"))
        .args([
            "--warehouse",
            db.url.expose(),
            "--lake",
            &format!("file://{}", work.path().join("lake").display()),
        ])
        .args(["load", "--kind", "yellow"])
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    let mut peak_kb = 0;
    let status = loop {
        peak_kb = peak_kb.max(peak_rss_kb(child.id()));
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let loader_secs = clock.elapsed().as_secs_f64();
    assert!(status.success());
    let peak_mb = peak_kb as f64 / 1024.0;
    let loaded: i64 =
        pg.psql("postgres", "SELECT count(*) FROM raw.yellow_tripdata").unwrap().parse().unwrap();
    assert_eq!(loaded, rows as i64);
    let _ = &lake;

    // The limit: the same rows as a binary COPY file the server reads itself.
    let copy_path = binary_copy_file(&parquet_path, work.path(), month, &file.lake_key());
    pg.psql("postgres", "CREATE TABLE bench_existing (LIKE raw.yellow_tripdata)").unwrap();
    let clock = Instant::now();
    pg.psql("postgres", &format!("COPY bench_existing FROM '{}' (FORMAT binary)", copy_path.display()))
        .unwrap();
    let limit_secs = clock.elapsed().as_secs_f64();
    // The same, into a table created in the same transaction with FREEZE (the loader's path).
    let clock = Instant::now();
    pg.psql(
        "postgres",
        &format!(
            "BEGIN; CREATE TABLE bench_fresh (LIKE raw.yellow_tripdata); \
             COPY bench_fresh FROM '{}' (FORMAT binary, FREEZE); COMMIT;",
            copy_path.display()
        ),
    )
    .unwrap();
    let fresh_secs = clock.elapsed().as_secs_f64();
    let copied: i64 = pg.psql("postgres", "SELECT count(*) FROM bench_existing").unwrap().parse().unwrap();
    assert_eq!(copied, rows as i64);

    let rate = |secs: f64| rows as f64 / secs;
    println!("warehouse load, {rows} rows (one yellow month, {:.1} MB Parquet):", size as f64 / 1e6);
    println!(
        "  atl-warehouse load (lake → COPY FREEZE)     {:>12.0} rows/s  {loader_secs:>6.2} s",
        rate(loader_secs)
    );
    println!(
        "  limit: server COPY FROM file, existing table {:>11.0} rows/s  {limit_secs:>6.2} s",
        rate(limit_secs)
    );
    println!(
        "  server COPY FROM file, new table + FREEZE   {:>12.0} rows/s  {fresh_secs:>6.2} s",
        rate(fresh_secs)
    );
    println!("  ratio loader / limit                        {:>12.2}", limit_secs / loader_secs);
    println!("  ratio loader / new-table FREEZE COPY         {:>11.2}", fresh_secs / loader_secs);
    println!("  loader peak RSS (atl-warehouse process)                             {peak_mb:>12.1} MB");
}

/// Encodes the Parquet file with the loader's own encoder into a file the server can read.
fn binary_copy_file(
    parquet: &std::path::Path,
    dir: &std::path::Path,
    month: YearMonth,
    key: &str,
) -> std::path::PathBuf {
    let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(parquet).unwrap()).unwrap();
    let mapping = SchemaMapping::new(TripKind::Yellow, reader.schema(), key).unwrap();
    let mut encoder = CopyEncoder::new(&Lineage { month: month.first_day(), key: key.to_owned() });
    let path = dir.join("rows.pgcopy");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for batch in reader.with_batch_size(65_536).build().unwrap() {
        encoder.encode(&mapping.apply(&batch.unwrap()).unwrap()).unwrap();
        out.write_all(&encoder.take()).unwrap();
    }
    out.write_all(&encoder.finish()).unwrap();
    out.flush().unwrap();
    // The server runs as another user (postgres) when we are root.
    for p in [dir, path.as_path()] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    path
}

/// VmHWM of a running process (0 once it has exited).
fn peak_rss_kb(pid: u32) -> u64 {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { return 0 };
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
