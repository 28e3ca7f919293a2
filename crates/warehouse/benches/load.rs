//! `cargo xtask bench warehouse`: the loader next to its peer and the server's own limit, in
//! one run, on one server per `wal_level`, as processes a user waits for:
//!
//! - `atl-warehouse load --kind yellow --force` (the release binary) from a `file://` lake, as
//!   a first load: the month is dropped (untimed) before, as the peers' tables are truncated;
//! - the same command as a reload over the loaded month, which it replaces: the old month stays
//!   readable until the swap, so the server holds both, and drops the old one at commit;
//! - DuckDB's postgres extension: `INSERT INTO pg.<table> SELECT * FROM read_parquet(...)`
//!   into an existing table of the file's shape (Python, `ATL_BENCH_PYTHON`), emptied before;
//! - DuckDB replacing the rows of its own full table in one transaction (`TRUNCATE`, then the
//!   same INSERT, then `COMMIT`): the reload's peer, since its old rows too stay readable
//!   until the commit and the server holds both;
//! - the server-side `COPY <table> FROM '<file>' (FORMAT binary)` of the same rows into an
//!   existing table shaped like the raw table (psql as the process);
//! - the same COPY in two halves at once, each on its own connection into its own table (a
//!   shell running two psql): the server's ceiling for two streams, as the loader has;
//! - the same two halves sent by two psql over the connection (`COPY ... FROM STDIN` fed the
//!   encoded files): the ceiling for a client with two streams that spends no CPU of its
//!   own on decoding and encoding. No loader of the Parquet file can beat it on the server.
//!
//! Each contender runs once per round, the order rotating between rounds; every figure is
//! wall time spawn→exit and the process's peak RSS (GNU time). A VACUUM and a checkpoint run
//! (untimed) before each contender, with autovacuum off, so none pays for another's dirty
//! pages or for the vacuum of another's new rows. Medians are printed.
//!
//! Why the first load is its own row: on this project's VMs, writing to pages the page cache
//! has never held costs several times more kernel time than reusing freed ones (measured:
//! 3 CPU-s more for the same load while the other contenders' tables stayed cached), so a
//! contender that writes while its old rows are still there pays more than one that truncated
//! them first. Each row states which it is.
//!
//! `ATL_BENCH_ROWS` (default 3,000,000), `ATL_BENCH_ROUNDS` (default 3),
//! `ATL_BENCH_PYTHON` (a Python with `duckdb` and `duckdb-extension-postgres`; xtask
//! installs them from xtask/requirements-bench.txt), `ATL_BENCH_WAL_LEVELS` (default
//! `replica,minimal`), `ATL_BENCH_LOADER_ARGS` (extra flags for the loader, e.g. `--streams 1`).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use atl_core::raw::{LOAD_LOG, month_literal};
use atl_core::{RawTable, SchemaMapping, TripFile, TripKind, YearMonth};
use atl_devservices::{PgServer, TimedRun, load_average, median, run_timed};
use atl_testdata::{TripFileSpec, write_trip_file_to};
use atl_warehouse::encode::{CopyEncoder, Lineage};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

const DUCKDB_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../xtask/bench/duckdb_load.py");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Contender {
    Loader,
    Reload,
    DuckDb,
    DuckDbReplace,
    Copy,
    CopyHalves,
    SentHalves,
}

const CONTENDERS: [Contender; 7] = [
    Contender::Loader,
    Contender::Reload,
    Contender::DuckDb,
    Contender::DuckDbReplace,
    Contender::Copy,
    Contender::CopyHalves,
    Contender::SentHalves,
];
const HALVES: [&str; 2] = ["bench_copy_h0", "bench_copy_h1"];

impl Contender {
    fn label(self) -> &'static str {
        match self {
            Contender::Loader => "atl-warehouse load (first load)",
            Contender::Reload => "atl-warehouse load --force (reload)",
            Contender::DuckDb => "DuckDB INSERT … read_parquet",
            Contender::DuckDbReplace => "DuckDB replace (one transaction)",
            Contender::Copy => "server COPY FROM file (binary)",
            Contender::CopyHalves => "server COPY, two halves at once",
            Contender::SentHalves => "two psql sending encoded halves",
        }
    }
}

struct Setup {
    rows: usize,
    rounds: usize,
    python: String,
    work: PathBuf,
    lake_dir: PathBuf,
    parquet: PathBuf,
    key: String,
    month: YearMonth,
}

fn main() {
    let env_usize =
        |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let rows = env_usize("ATL_BENCH_ROWS", 3_000_000);
    let rounds = env_usize("ATL_BENCH_ROUNDS", 3).max(1);
    let python = std::env::var("ATL_BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let wal_levels = std::env::var("ATL_BENCH_WAL_LEVELS").unwrap_or_else(|_| "replica,minimal".into());

    let work = tempfile::Builder::new().prefix("atl-bench-wh-").tempdir().unwrap();
    // The server runs as another user (postgres) when we are root: it reads the COPY file.
    make_traversable(work.path());
    let month: YearMonth = "2023-01".parse().unwrap();
    let file = TripFile::new(TripKind::Yellow, month);
    let lake_dir = work.path().join("lake");
    let parquet = lake_dir.join(file.lake_key());
    let clock = Instant::now();
    write_trip_file_to(&TripFileSpec::new(TripKind::Yellow, month, rows), &parquet).unwrap();
    let size = std::fs::metadata(&parquet).unwrap().len();
    eprintln!(
        "generated {rows} rows ({:.1} MB Parquet) in {:.1} s",
        size as f64 / 1e6,
        clock.elapsed().as_secs_f64()
    );
    let setup = Setup {
        rows,
        rounds,
        python,
        work: work.path().to_owned(),
        lake_dir,
        parquet,
        key: file.lake_key(),
        month,
    };

    println!(
        "warehouse load: {rows} rows (one generated yellow month, {:.1} MB Parquet), {rounds} alternated rounds, medians",
        size as f64 / 1e6
    );
    for level in wal_levels.split(',').map(str::trim).filter(|l| !l.is_empty()) {
        bench_level(&setup, level);
    }
    if std::fs::read_to_string("/proc/cmdline").is_ok_and(|c| c.contains("page_reporting")) {
        println!(
            "note: this machine hands free memory back to its host (page_reporting on the kernel \
             command line): writing into fresh pages costs more than reusing freed ones, which is \
             most of the gap between the first load and the reload (docs/performance.md)"
        );
    }
}

fn bench_level(setup: &Setup, wal_level: &str) {
    let pg = PgServer::temp().expect("a temp PostgreSQL server");
    if wal_level != "minimal" {
        pg.psql("postgres", &format!("ALTER SYSTEM SET wal_level = '{wal_level}'")).unwrap();
        pg.psql("postgres", "ALTER SYSTEM SET max_wal_senders = 10").unwrap();
        pg.cluster().stop().unwrap();
        pg.cluster().ensure_running().unwrap();
    }
    assert_eq!(pg.psql("postgres", "SHOW wal_level").unwrap(), wal_level);
    // No VACUUM in the background: with a naptime of a minute, autovacuum's VACUUM of one
    // contender's 3 M new rows would land inside a later contender's timing. Each contender's
    // untimed preparation VACUUMs instead.
    pg.psql("postgres", "ALTER SYSTEM SET autovacuum = off").unwrap();
    pg.psql("postgres", "SELECT pg_reload_conf()").unwrap();
    let url = pg.url("postgres");
    let lake_url = format!("file://{}", setup.lake_dir.display());
    let loader_args: Vec<String> =
        ["--warehouse", &url, "--lake", &lake_url, "load", "--kind", "yellow", "--force"]
            .iter()
            .map(|s| s.to_string())
            .chain(
                std::env::var("ATL_BENCH_LOADER_ARGS")
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(String::from),
            )
            .collect();
    let loader = env!("CARGO_BIN_EXE_atl-warehouse");
    let conninfo = format!("host=127.0.0.1 port={} user=postgres dbname=postgres", pg.port());
    let duckdb_args = |mode: &str, table: &str| -> Vec<String> {
        vec![
            DUCKDB_SCRIPT.into(),
            mode.into(),
            conninfo.clone(),
            table.into(),
            setup.parquet.display().to_string(),
        ]
    };
    let psql = pg.cluster().install().bin("psql");
    let copy_files = binary_copy_files(&setup.parquet, &setup.work, setup.month, &setup.key);
    let psql_args = pg.cluster().psql_args("postgres").join(" ");
    let psql = |sql: &str| -> String { format!("{} {psql_args} -c \"{sql}\"", psql.display()) };
    let psql_command =
        |table: &str, file: &Path| psql(&format!("COPY {table} FROM '{}' (FORMAT binary)", file.display()));
    let psql_sending = |table: &str, file: &Path| {
        format!("{} < '{}'", psql(&format!("COPY {table} FROM STDIN (FORMAT binary)")), file.display())
    };
    let copy_args = vec!["-c".to_string(), format!("exec {}", psql_command("bench_copy", &copy_files.whole))];
    // Both halves at once, each psql over its own connection; fails if either fails.
    let both_halves = |command: &dyn Fn(&str, &Path) -> String| {
        let [a, b] = [0, 1].map(|i| command(HALVES[i], &copy_files.halves[i]));
        vec!["-c".to_string(), format!("{a} & a=$!; {b} & b=$!; wait $a && wait $b")]
    };
    let halves_args = both_halves(&psql_command);
    let sending_args = both_halves(&psql_sending);

    // Untimed: the raw schema and a first load, DuckDB's table, the COPY's table.
    run_timed(loader, &loader_args, &[("RUST_LOG", "warn")]).expect("a first load");
    for table in ["bench_duckdb", "bench_duckdb_replace"] {
        run_timed(&setup.python, &duckdb_args("prepare", table), &[])
            .expect("DuckDB's table (is duckdb installed?)");
    }
    // The table DuckDB replaces holds the month before its first round, as the loader's does.
    run_timed(&setup.python, &duckdb_args("load", "bench_duckdb_replace"), &[]).expect("DuckDB's first load");
    for table in ["bench_copy", HALVES[0], HALVES[1]] {
        pg.psql("postgres", &format!("CREATE TABLE {table} (LIKE raw.yellow_tripdata)")).unwrap();
    }

    let mut runs: Vec<(Contender, TimedRun)> = Vec::new();
    for round in 0..setup.rounds {
        for i in 0..CONTENDERS.len() {
            let contender = CONTENDERS[(i + round) % CONTENDERS.len()];
            match contender {
                Contender::DuckDb => pg.psql("postgres", "TRUNCATE bench_duckdb").unwrap(),
                Contender::Copy => pg.psql("postgres", "TRUNCATE bench_copy").unwrap(),
                Contender::CopyHalves | Contender::SentHalves => {
                    pg.psql("postgres", &format!("TRUNCATE {}", HALVES.join(", "))).unwrap()
                }
                Contender::Loader => pg.psql("postgres", &forget_month(setup.month)).unwrap(),
                Contender::Reload | Contender::DuckDbReplace => String::new(),
            };
            pg.psql("postgres", "VACUUM").unwrap();
            pg.psql("postgres", "CHECKPOINT").unwrap();
            let run = match contender {
                Contender::Loader | Contender::Reload => {
                    run_timed(loader, &loader_args, &[("RUST_LOG", "warn")])
                }
                Contender::DuckDb => run_timed(&setup.python, &duckdb_args("load", "bench_duckdb"), &[]),
                Contender::DuckDbReplace => {
                    run_timed(&setup.python, &duckdb_args("replace", "bench_duckdb_replace"), &[])
                }
                Contender::Copy => run_timed("sh", &copy_args, &[]),
                Contender::CopyHalves => run_timed("sh", &halves_args, &[]),
                Contender::SentHalves => run_timed("sh", &sending_args, &[]),
            }
            .unwrap_or_else(|e| panic!("{}: {e}", contender.label()));
            let count_sql = match contender {
                Contender::Loader | Contender::Reload => {
                    "SELECT count(*) FROM raw.yellow_tripdata".to_string()
                }
                Contender::DuckDb => "SELECT count(*) FROM bench_duckdb".to_string(),
                Contender::DuckDbReplace => "SELECT count(*) FROM bench_duckdb_replace".to_string(),
                Contender::Copy => "SELECT count(*) FROM bench_copy".to_string(),
                Contender::CopyHalves | Contender::SentHalves => {
                    format!(
                        "SELECT (SELECT count(*) FROM {}) + (SELECT count(*) FROM {})",
                        HALVES[0], HALVES[1]
                    )
                }
            };
            let count: usize = pg.psql("postgres", &count_sql).unwrap().parse().unwrap();
            assert_eq!(count, setup.rows, "{} left {count} rows", contender.label());
            eprintln!(
                "  [{wal_level}] round {} {:<32} {:6.2} s  {:6.1} MB  {:5.2} CPU-s in the process",
                round + 1,
                contender.label(),
                run.seconds,
                run.peak_rss_mb(),
                run.cpu_seconds
            );
            runs.push((contender, run));
        }
    }

    let all_of = |c: Contender, f: fn(&TimedRun) -> f64| {
        runs.iter().filter(|(k, _)| *k == c).map(|(_, r)| f(r)).collect::<Vec<_>>()
    };
    let secs = |c| median(&all_of(c, |r| r.seconds));
    let rate = |c| setup.rows as f64 / secs(c);
    println!("wal_level={wal_level}  (load average {})", load_average());
    println!(
        "  {:<32} {:>10} {:>8} {:>13} {:>9} {:>9} {:>10}",
        "contender", "rows/s", "median s", "range s", "/ DuckDB", "/ COPY", "peak RSS"
    );
    for c in CONTENDERS {
        let all = all_of(c, |r| r.seconds);
        let (low, high) = all.iter().fold((f64::MAX, 0.0f64), |(l, h), s| (l.min(*s), h.max(*s)));
        // Three decimals: a ratio measured against a target (1.3×) must not round up to it.
        println!(
            "  {:<32} {:>10.0} {:>8.2} {:>13} {:>8.3}× {:>8.3}× {:>7.1} MB",
            c.label(),
            rate(c),
            secs(c),
            format!("{low:.2}-{high:.2}"),
            rate(c) / rate(Contender::DuckDb),
            rate(c) / rate(Contender::Copy),
            median(&all_of(c, TimedRun::peak_rss_mb))
        );
    }
    println!(
        "  reload ÷ DuckDB replacing in one transaction (both keep the old rows until the commit): {:.3}×",
        rate(Contender::Reload) / rate(Contender::DuckDbReplace)
    );
    // Each round's contenders run minutes apart at most: their ratio shows how far the
    // medians' ratio can move on this machine.
    let by_round = |ours: Contender| {
        let (ours, duckdb) = (all_of(ours, |r| r.seconds), all_of(Contender::DuckDb, |r| r.seconds));
        ours.iter().zip(&duckdb).map(|(o, d)| format!("{:.2}×", d / o)).collect::<Vec<_>>().join(" ")
    };
    println!(
        "  ÷ DuckDB round by round: first load {}; reload {}",
        by_round(Contender::Loader),
        by_round(Contender::Reload)
    );
}

/// The month's partition and load log row, gone: the loader's next run is a first load.
fn forget_month(month: YearMonth) -> String {
    let table = RawTable::new(TripKind::Yellow).expect("yellow has a raw table");
    format!(
        "DROP TABLE IF EXISTS {}; DELETE FROM {LOAD_LOG} WHERE kind = '{}' AND month = {}",
        table.partition(month),
        table.kind,
        month_literal(month)
    )
}

struct CopyFiles {
    whole: PathBuf,
    /// Rows `[0, n/2)` and `[n/2, n)`, each a complete COPY file.
    halves: [PathBuf; 2],
}

/// Encodes the Parquet file with the loader's own encoder into files the server can read:
/// the whole month, and its two halves.
fn binary_copy_files(parquet: &Path, dir: &Path, month: YearMonth, key: &str) -> CopyFiles {
    let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(parquet).unwrap()).unwrap();
    let rows = reader.metadata().file_metadata().num_rows() as usize;
    let mapping = SchemaMapping::new(TripKind::Yellow, reader.schema(), key).unwrap();
    let lineage = |first_row| Lineage { month: month.first_day(), first_row };
    let mut whole = CopyOut::create(dir.join("rows.pgcopy"), &lineage(0));
    let mut halves = [
        CopyOut::create(dir.join("rows_h0.pgcopy"), &lineage(0)),
        CopyOut::create(dir.join("rows_h1.pgcopy"), &lineage(rows as i32 / 2)),
    ];
    let mut done = 0;
    for batch in reader.with_batch_size(65_536).build().unwrap() {
        let batch = mapping.apply(&batch.unwrap()).unwrap();
        whole.write(&batch);
        // The part of this batch before the middle row goes to the first half.
        let first = (rows / 2).saturating_sub(done).min(batch.num_rows());
        halves[0].write(&batch.slice(0, first));
        halves[1].write(&batch.slice(first, batch.num_rows() - first));
        done += batch.num_rows();
    }
    let [h0, h1] = halves;
    CopyFiles { whole: whole.finish(), halves: [h0.finish(), h1.finish()] }
}

struct CopyOut {
    path: PathBuf,
    encoder: CopyEncoder,
    out: std::io::BufWriter<std::fs::File>,
}

impl CopyOut {
    fn create(path: PathBuf, lineage: &Lineage) -> CopyOut {
        let out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        CopyOut { path, encoder: CopyEncoder::new(lineage), out }
    }

    fn write(&mut self, batch: &arrow::record_batch::RecordBatch) {
        if batch.num_rows() > 0 {
            self.encoder.encode(batch).unwrap();
            self.out.write_all(&self.encoder.take()).unwrap();
        }
    }

    fn finish(mut self) -> PathBuf {
        self.out.write_all(&self.encoder.finish()).unwrap();
        self.out.flush().unwrap();
        make_traversable(&self.path);
        self.path
    }
}

fn make_traversable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}
