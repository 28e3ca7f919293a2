// Over 400 lines: one benchmark run end to end (servers, generated months, the alternated
// rounds of both kinds, the server's statement log), so its steps read in the order they run.
//! `cargo xtask bench mart`: `atl-mart build` of a generated yellow month and of a generated
//! high-volume for-hire (fhvhv) month of the same rows, each as a process a user waits for
//! (wall time spawn→exit, peak RSS), on months the warehouse holds, the two kinds alternated
//! round by round on the same servers, with the for-hire build's rows/s against the taxi
//! build's (issue 27: one build path for every kind, the for-hire one at taxi speed). For
//! the yellow month, where the time goes: the mart server logs every statement's duration (`log_min_duration_statement = 0`),
//! which splits the build into the stream (the COPY into the new partition, and the staging
//! COPY of the rejected rows), insertion.sql and the rest; then the whole month is staged and
//! insertion.sql run by hand with psql, as psql users run it, statement by statement, for the
//! duration of each step of the SQL path (cleaning, aggregates, attach). Each round also gives
//! the CPU seconds of atl-mart and of each server, and is followed by the servers' own floors,
//! for each kind, timed the same way ([`References`]): the fact's write and the month's read with no
//! stream, whose ratio between the kinds is what the for-hire rows' width alone costs, and the
//! peer: DuckDB's postgres extension moving the month's raw rows from the warehouse into a
//! table of the mart, with no cleaning (xtask/bench/duckdb_mart.py).
//!
//! `ATL_BENCH_ROWS` (default 3,000,000), `ATL_BENCH_ROUNDS` (default 3), `ATL_BENCH_PYTHON` (a
//! Python with `duckdb` and `duckdb-extension-postgres`; xtask gives its own).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::Path;
use std::time::Instant;

use atl_core::{DatabaseConfig, Secret, TripFile, TripKind, YearMonth};
use atl_devservices::{CpuTimes, PgServer, TimedRun, load_average, median, run_timed, steal_since};
use atl_lake::Lake;
use atl_testdata::{Era, TripFileSpec, write_trip_file_to, zone_table_csv};
use atl_warehouse::LoadRequest;

const INSERTION_SQL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../sql/mart/insertion.sql");
const DUCKDB_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../xtask/bench/duckdb_mart.py");
/// The builds timed, alternated.
const KINDS: [TripKind; 2] = [TripKind::Yellow, TripKind::Fhvhv];

fn main() {
    let env_usize =
        |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let rows = env_usize("ATL_BENCH_ROWS", 3_000_000);
    let rounds = env_usize("ATL_BENCH_ROUNDS", 3).max(1);
    let month: YearMonth = "2023-03".parse().unwrap();
    let warehouse = PgServer::temp().expect("a temp PostgreSQL server for the warehouse");
    let mart = PgServer::temp().expect("a temp PostgreSQL server for the mart");
    let db = |pg: &PgServer| DatabaseConfig { url: Secret::new(pg.url("postgres")), parallelism: 2 };
    let lake_dir = tempfile::tempdir().unwrap();
    let lake = Lake::open_folder(lake_dir.path()).unwrap();
    let zones = lake_dir.path().join(atl_core::ZONES_LAKE_KEY);
    std::fs::create_dir_all(zones.parent().unwrap()).unwrap();
    std::fs::write(zones, zone_table_csv()).unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    for kind in KINDS {
        let clock = Instant::now();
        let spec = TripFileSpec::new(kind, month, rows).era(Era::Y2022);
        write_trip_file_to(&spec, &lake_dir.path().join(TripFile::new(kind, month).lake_key())).unwrap();
        let load = rt.block_on(atl_warehouse::load(&db(&warehouse), &lake, &LoadRequest::new(kind), |_| {}));
        assert_eq!(load.unwrap().loaded().count(), 1);
        eprintln!("generated and loaded {rows} {kind} rows in {:.1} s", clock.elapsed().as_secs_f64());
        // A loaded month, as a warehouse holds it: autovacuum's first pass over the new parts
        // (its ANALYZE reads most of their pages) would otherwise fall in the first rounds and
        // be counted against them (warehouse server 7.5-8.5 CPU-s in rounds 1-2 against 5.2
        // in round 3 of a run, 2026-12-02).
        warehouse.psql("postgres", &format!("VACUUM (ANALYZE) raw.{kind}_tripdata")).unwrap();
    }
    for server in [&mart, &warehouse] {
        server.psql("postgres", "ALTER SYSTEM SET log_min_duration_statement = 0").unwrap();
        server.psql("postgres", "SELECT pg_reload_conf()").unwrap();
    }

    let args = |kind: TripKind| -> Vec<String> {
        [
            "--warehouse",
            &warehouse.url("postgres"),
            "--mart",
            &mart.url("postgres"),
            "--lake",
            &format!("file://{}", lake_dir.path().display()),
            "build",
            "--kind",
            kind.as_str(),
            "--months",
            &month.to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let log = mart.cluster().log_path();
    let wh_log = warehouse.cluster().log_path();
    let mut runs: Vec<TimedRun> = Vec::new();
    let mut for_hire_runs: Vec<TimedRun> = Vec::new();
    let mut references = References::default();
    let mut last_round_log = Vec::new();
    let mut last_round_wh_log = Vec::new();
    let mut for_hire_log = Vec::new();
    // The slowest fhvhv round's statements too: a round far from the others says why here.
    let mut slowest_for_hire: Option<(f64, Vec<(f64, String)>)> = None;
    let rounds_machine = CpuTimes::now();
    for round in 0..rounds {
        // Alternated: neither kind always runs first after the references.
        let order = if round % 2 == 0 { KINDS } else { [KINDS[1], KINDS[0]] };
        for kind in order {
            mart.psql("postgres", "CHECKPOINT").unwrap();
            warehouse.psql("postgres", "CHECKPOINT").unwrap();
            let log_start = log_len(&log);
            let wh_log_start = log_len(&wh_log);
            let cpu_before = [&mart, &warehouse].map(settled_cpu);
            let machine_before = CpuTimes::now();
            let run = run_timed(env!("CARGO_BIN_EXE_atl-mart"), &args(kind), &[("RUST_LOG", "warn")])
                .expect("atl-mart build");
            let [mart_cpu, warehouse_cpu] = [&mart, &warehouse].map(settled_cpu);
            // TripKind's Display ignores widths.
            let name = kind.as_str();
            eprintln!(
                "  round {} {name:6} atl-mart build {:6.2} s = {:8.0} rows/s  {:6.1} MB; CPU-s: atl-mart {:.2}, mart server {:.2}, warehouse server {:.2}  (load average {}, {})",
                round + 1,
                run.seconds,
                rows as f64 / run.seconds,
                run.peak_rss_mb(),
                run.cpu_seconds,
                mart_cpu - cpu_before[0],
                warehouse_cpu - cpu_before[1],
                load_average(),
                steal_since(machine_before)
            );
            if kind == TripKind::Yellow {
                runs.push(run);
                last_round_log = statement_durations(&log, log_start);
                last_round_wh_log = statement_durations(&wh_log, wh_log_start);
            } else {
                for_hire_log = statement_durations(&log, log_start);
                if slowest_for_hire.as_ref().is_none_or(|(s, _)| run.seconds > *s) {
                    slowest_for_hire = Some((run.seconds, for_hire_log.clone()));
                }
                for_hire_runs.push(run);
            }
        }
        if round == 0 {
            references.prepare(&rt, &db(&mart), [&warehouse, &mart], month);
            assert_eq!(
                references.fact_rows(TripKind::Yellow),
                built_fact_rows(&mart),
                "the reference file holds the month's fact"
            );
        }
        references.run(&mart, &warehouse, rows, round % 2 == 1);
    }
    let built: String = mart
        .psql(
            "postgres",
            "SELECT warehouse_rows || ' ' || fact_rows || ' ' || rejected_rows || ' ' || warehouse_total \
             FROM mart.build_log WHERE service_id = 1",
        )
        .unwrap();
    let built: Vec<&str> = built.split(' ').collect();
    assert_eq!(built[0].parse::<usize>().unwrap(), rows);

    let build_median = median(&runs.iter().map(|r| r.seconds).collect::<Vec<_>>());
    let rss = median(&runs.iter().map(TimedRun::peak_rss_mb).collect::<Vec<_>>());
    println!(
        "mart build: {rows} rows (fact {}, rejected {}), {rounds} rounds, median {build_median:.2} s = {:.0} rows/s, peak RSS {:.1} MB (load average {}; over the rounds, {})",
        built[1],
        built[2],
        rows as f64 / build_median,
        rss,
        load_average(),
        steal_since(rounds_machine)
    );
    let for_hire_median = median(&for_hire_runs.iter().map(|r| r.seconds).collect::<Vec<_>>());
    let for_hire_built = mart
        .psql(
            "postgres",
            "SELECT sum(warehouse_rows) || ' ' || sum(fact_rows) || ' ' || sum(rejected_rows) FROM mart.build_log b \
             JOIN mart.dim_service s USING (service_id) WHERE s.kind = 'fhvhv'",
        )
        .unwrap();
    let for_hire_built: Vec<&str> = for_hire_built.split(' ').collect();
    assert_eq!(for_hire_built[0].parse::<usize>().unwrap(), rows);
    println!(
        "mart build fhvhv: {rows} rows (fact {}, rejected {}), {rounds} rounds alternated with yellow's, median {for_hire_median:.2} s = {:.0} rows/s, peak RSS {:.1} MB: {:.2}x the yellow build's rows/s (target >= 0.9x)",
        for_hire_built[1],
        for_hire_built[2],
        rows as f64 / for_hire_median,
        median(&for_hire_runs.iter().map(TimedRun::peak_rss_mb).collect::<Vec<_>>()),
        build_median / for_hire_median
    );
    assert_eq!(
        for_hire_built[1].parse::<u64>().unwrap(),
        references.fact_rows(TripKind::Fhvhv),
        "the reference file holds the fhvhv month's fact"
    );
    references.print(rows, [build_median, for_hire_median]);
    println!("  the last fhvhv round, statements of 50 ms or more on the mart server:");
    for (ms, statement) in &for_hire_log {
        if *ms >= 50.0 {
            println!("    {:>8.2} s  {}", ms / 1000.0, shorten(statement));
        }
    }
    if let Some((seconds, statements)) = slowest_for_hire.filter(|(s, _)| *s > for_hire_median * 1.2) {
        println!(
            "  the slowest fhvhv round ({seconds:.2} s), statements of 50 ms or more on the mart server:"
        );
        for (ms, statement) in statements.iter().filter(|(ms, _)| *ms >= 50.0) {
            println!("    {:>8.2} s  {}", ms / 1000.0, shorten(statement));
        }
    }
    let last = runs.last().unwrap().seconds;
    println!("  the last round ({last:.2} s), by the mart server's log:");
    // The two COPYs of the stream (clean rows into the partition, rejected ones into
    // staging) run at the same time, on two sessions: the stream lasts as long as the longer.
    let mut logged = 0.0;
    let mut stream: f64 = 0.0;
    for (ms, statement) in &last_round_log {
        if *ms >= 50.0 {
            println!("    {:>8.2} s  {}", ms / 1000.0, shorten(statement));
        }
        if statement.trim_start().starts_with("COPY") {
            stream = stream.max(ms / 1000.0);
        } else {
            logged += ms / 1000.0;
        }
    }
    println!("    {stream:>8.2} s  the stream (the two COPYs above, side by side)");
    logged += stream;
    println!("  the last round on the warehouse server (its statements overlap the mart's):");
    for (ms, statement) in &last_round_wh_log {
        if *ms >= 50.0 {
            println!("    {:>8.2} s  {}", ms / 1000.0, shorten(statement));
        }
    }
    println!(
        "    {:>8.2} s  everything else (connections, the warehouse side's count, the client)",
        last - logged
    );

    // insertion.sql again, by hand, as psql users run it: the whole month staged first (the
    // build stages only its rejected rows), then each statement's duration.
    let clock = Instant::now();
    let staged = rt
        .block_on(async {
            let mut wh = atl_warehouse::connect(&db(&warehouse)).await?;
            let mut conn = atl_mart::connect(&db(&mart)).await?;
            atl_mart::transfer::stage_month(&mut wh, &mut conn, TripKind::Yellow, month).await
        })
        .expect("staging the whole month");
    println!(
        "  the whole month staged ({staged} rows) in {:.2} s for insertion.sql by hand",
        clock.elapsed().as_secs_f64()
    );
    let log_start = log_len(&log);
    let psql = mart.cluster().install().bin("psql");
    let clock = Instant::now();
    let status = std::process::Command::new(psql)
        .args(mart.cluster().psql_args("postgres"))
        .arg("-c")
        .arg(format!(
            "SELECT set_config('atl.month', '{}', false), set_config('atl.service', 'yellow', false), \
             set_config('atl.warehouse_total', '{}', false)",
            month.first_day(),
            built[3]
        ))
        .arg("-f")
        .arg(INSERTION_SQL)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let by_hand = clock.elapsed().as_secs_f64();
    println!("  insertion.sql by hand with psql ({by_hand:.2} s), statements of 50 ms or more:");
    for (ms, statement) in statement_durations(&log, log_start) {
        if ms >= 50.0 {
            println!("    {:>8.2} s  {}", ms / 1000.0, shorten(&statement));
        }
    }
}

/// The servers' own floors for each kind, timed as processes (psql, spawn to exit) and
/// alternated with the builds: the mart server writing the month's finished fact rows from a
/// file of its own into the build table the stream writes (same constraints, FREEZE, rolled
/// back), and the warehouse server running the stream's query into /dev/null. No build can
/// write the fact faster than the first, nor read the month faster than the second; their
/// ratio between the kinds is what the rows' width alone costs. Beside them, the peer: DuckDB
/// moving the month's raw rows from the warehouse into a table of the mart (Python, spawn to
/// exit), the least a DuckDB pipeline from one server to the other does.
#[derive(Default)]
struct References {
    kinds: Vec<(TripKind, Reference)>,
    python: String,
}

#[derive(Default)]
struct Reference {
    fact_copy_in: String,
    warehouse_copy_out: String,
    fact_rows: u64,
    mart_seconds: Vec<f64>,
    warehouse_seconds: Vec<f64>,
    /// The server's CPU seconds during each reference.
    mart_cpu: Vec<f64>,
    warehouse_cpu: Vec<f64>,
    /// The peer's arguments to `python`, and its runs.
    duckdb_move: Vec<String>,
    duckdb: Vec<TimedRun>,
}

impl References {
    fn prepare(
        &mut self,
        rt: &tokio::runtime::Runtime,
        mart_db: &DatabaseConfig,
        [warehouse, mart]: [&PgServer; 2],
        month: YearMonth,
    ) {
        self.python = std::env::var("ATL_BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
        for kind in KINDS {
            let duckdb = |mode: &str| -> Vec<String> {
                let (wh, mart) = (warehouse.url("postgres"), mart.url("postgres"));
                [DUCKDB_SCRIPT, mode, &wh, &mart, kind.as_str(), &month.first_day().to_string()]
                    .map(str::to_owned)
                    .to_vec()
            };
            run_timed(&self.python, &duckdb("prepare"), &[]).expect("DuckDB's table (is duckdb installed?)");
            let spec = atl_mart::stream::spec(kind);
            let file = mart.data_dir().join(format!("bench_{kind}_fact.bin"));
            let in_month = format!("FROM {} WHERE source_month = DATE '{}'", spec.fact, month.first_day());
            mart.psql(
                "postgres",
                &format!("COPY (SELECT * {in_month}) TO '{}' (FORMAT binary)", file.display()),
            )
            .expect("writing the month's fact rows to a file");
            let fact_rows =
                mart.psql("postgres", &format!("SELECT count(*) {in_month}")).unwrap().parse().unwrap();
            let fact_copy_in = format!(
                "BEGIN; SELECT {}('{kind}', DATE '{}'); COPY {} FROM '{}' (FORMAT binary, FREEZE true); ROLLBACK",
                spec.new_build_table,
                month.first_day(),
                spec.build,
                file.display()
            );
            let select = rt
                .block_on(async {
                    let mut conn = atl_mart::connect(mart_db).await?;
                    let staging = atl_mart::transfer::staging_columns(&mut conn, spec.staging).await?;
                    atl_mart::stream::warehouse_read(kind, month, &staging).map(|(_, select)| select)
                })
                .expect("the stream's query");
            let warehouse_copy_out = format!("COPY ({select}) TO '/dev/null' (FORMAT binary)");
            self.kinds.push((
                kind,
                Reference {
                    fact_copy_in,
                    warehouse_copy_out,
                    fact_rows,
                    duckdb_move: duckdb("move"),
                    ..Reference::default()
                },
            ));
        }
    }

    fn fact_rows(&self, kind: TripKind) -> u64 {
        self.kinds.iter().find(|(k, _)| *k == kind).map_or(0, |(_, r)| r.fact_rows)
    }

    /// One round of every reference, the kinds in reverse order when `reversed` (as the builds
    /// alternate theirs).
    fn run(&mut self, mart: &PgServer, warehouse: &PgServer, rows: usize, reversed: bool) {
        let mut kinds: Vec<_> = self.kinds.iter_mut().collect();
        if reversed {
            kinds.reverse();
        }
        for (kind, r) in kinds {
            for (server, sql, seconds, cpu) in [
                (mart, &r.fact_copy_in, &mut r.mart_seconds, &mut r.mart_cpu),
                (warehouse, &r.warehouse_copy_out, &mut r.warehouse_seconds, &mut r.warehouse_cpu),
            ] {
                server.psql("postgres", "CHECKPOINT").unwrap();
                let before = settled_cpu(server);
                seconds.push(psql_timed(server, sql).seconds);
                cpu.push(settled_cpu(server) - before);
            }
            for server in [mart, warehouse] {
                server.psql("postgres", "CHECKPOINT").unwrap();
            }
            r.duckdb.push(run_timed(&self.python, &r.duckdb_move, &[]).expect("DuckDB moving the month"));
            let moved =
                mart.psql("postgres", &format!("SELECT count(*) FROM public.bench_duckdb_{kind}")).unwrap();
            assert_eq!(moved, rows.to_string(), "DuckDB moved the whole {kind} month");
            // Emptied untimed, so that no autovacuum of its rows falls in the next builds.
            mart.psql("postgres", &format!("TRUNCATE public.bench_duckdb_{kind}")).unwrap();
        }
    }

    /// `build_medians`: each kind's build median, in the order of [`KINDS`].
    fn print(&self, rows: usize, build_medians: [f64; 2]) {
        println!(
            "  references of the same run, on the same servers (psql or Python, spawn to exit, medians):"
        );
        for ((kind, r), build_median) in self.kinds.iter().zip(build_medians) {
            let (copy_in, copy_out) = (median(&r.mart_seconds), median(&r.warehouse_seconds));
            let name = kind.as_str();
            println!(
                "    {name:6} {copy_in:>6.2} s  the mart server's own COPY of the month's {} fact rows from its file into the build table (= {:.0} warehouse rows/s, {:.2} CPU-s on the server; the build takes {:.2}x)",
                r.fact_rows,
                rows as f64 / copy_in,
                median(&r.mart_cpu),
                build_median / copy_in
            );
            println!(
                "    {name:6} {copy_out:>6.2} s  the warehouse server's own COPY of the stream's query into /dev/null (= {:.0} rows/s, {:.2} CPU-s on the server; the build takes {:.2}x)",
                rows as f64 / copy_out,
                median(&r.warehouse_cpu),
                build_median / copy_out
            );
            let duckdb = median(&r.duckdb.iter().map(|d| d.seconds).collect::<Vec<_>>());
            println!(
                "    {name:6} {duckdb:>6.2} s  the peer: DuckDB's postgres extension moving the month's raw rows from the warehouse into a mart table, no cleaning (= {:.0} rows/s, peak RSS {:.0} MB; the build takes {:.2}x)",
                rows as f64 / duckdb,
                median(&r.duckdb.iter().map(TimedRun::peak_rss_mb).collect::<Vec<_>>()),
                build_median / duckdb
            );
        }
        if let [(_, taxi), (_, for_hire)] = &self.kinds[..] {
            let ratio = |t: &[f64], f: &[f64]| median(t) / median(f);
            println!(
                "    the floors alone, fhvhv's rows/s against yellow's: the mart's COPY {:.2}x, the warehouse's {:.2}x (the build: {:.2}x)",
                ratio(&taxi.mart_seconds, &for_hire.mart_seconds),
                ratio(&taxi.warehouse_seconds, &for_hire.warehouse_seconds),
                build_medians[0] / build_medians[1]
            );
        }
    }
}

fn psql_timed(server: &PgServer, sql: &str) -> TimedRun {
    let mut args = server.cluster().psql_args("postgres");
    args.extend(["-c".to_owned(), sql.to_owned()]);
    run_timed(server.cluster().install().bin("psql"), &args, &[]).expect("a reference COPY with psql")
}

/// The server's CPU seconds once the backends of closed connections are reaped (the server's
/// background processes are not counted; see `PgCluster::cpu_seconds`).
fn settled_cpu(server: &PgServer) -> f64 {
    server.cluster().settled_cpu_seconds().expect("the server's settled CPU time")
}

/// The fact rows build_log gives the month.
fn built_fact_rows(mart: &PgServer) -> u64 {
    mart.psql("postgres", "SELECT fact_rows FROM mart.build_log WHERE service_id = 1")
        .unwrap()
        .parse()
        .unwrap()
}

fn log_len(log: &Path) -> usize {
    std::fs::read(log).map(|b| b.len()).unwrap_or(0)
}

/// `(milliseconds, statement)` of each `duration:` entry the server logged after `start`.
fn statement_durations(log: &Path, start: usize) -> Vec<(f64, String)> {
    let text = std::fs::read(log).unwrap_or_default();
    let text = String::from_utf8_lossy(&text[start.min(text.len())..]).into_owned();
    let mut entries = Vec::new();
    let mut current: Option<(f64, String)> = None;
    for line in text.lines() {
        if let Some(rest) = line.split_once("LOG:  duration: ").map(|(_, r)| r) {
            entries.extend(current.take());
            let (ms, statement) = rest.split_once(" ms").unwrap_or((rest, ""));
            let statement = statement.split_once("statement: ").map(|(_, s)| s).unwrap_or(statement);
            current = Some((ms.trim().parse().unwrap_or(0.0), statement.to_owned()));
        } else if line.starts_with("20") && line.contains(" UTC [") {
            entries.extend(current.take());
        } else if let Some((_, statement)) = current.as_mut() {
            statement.push('\n');
            statement.push_str(line);
        }
    }
    entries.extend(current);
    entries
}

/// The statement's first line of SQL (comments skipped), cut to fit a line.
fn shorten(statement: &str) -> String {
    let line = statement
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("--"))
        .unwrap_or("")
        .to_owned();
    if line.chars().count() > 90 { line.chars().take(87).collect::<String>() + "..." } else { line }
}
