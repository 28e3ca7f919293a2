//! `cargo xtask airflow --celery`: the DAG on Airflow's CeleryExecutor, as the compose stack
//! runs it, without Docker: Redis (Debian's redis-server), Airflow's metadata database, the
//! API server, the scheduler, the DAG processor and Celery workers as processes, against a
//! local TLC mirror, a lake folder and two throwaway PostgreSQL servers.
//!
//! Three backfills (`airflow backfill create`), each of its own months so that none finds
//! the work of another done:
//! 1. six months of yellow and fhvhv with one worker, timed;
//! 2. six other months with two workers, timed, then checked: both workers ran tasks, every
//!    month reached the warehouse and the mart exactly once, the mart builds ran one at a
//!    time (its pool) and no pool ever ran more tasks than its slots;
//! 3. one big month, during whose warehouse COPY the worker running it is SIGKILLed with
//!    all its processes: the task is retried (on a worker) and the month loaded once.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, ensure};
use atl_devservices::{PgServer, TlcMirror};

use super::checks::{self, Month};
use super::processes;
use super::stack::Stack;
use super::{KINDS, generate, install};
use crate::stages::{self, Profile};
use crate::workspace_root;

/// Rows of each generated month of the timed backfills: small, so that the time measured is
/// the orchestration's.
const ROWS: usize = 5000;
/// Rows of the yellow month whose load is interrupted: long enough a COPY to kill a worker in.
const KILL_ROWS: usize = 400_000;
/// Months of one timed backfill, and runs of it at once (`--max-active-runs`).
pub(super) const MONTHS: usize = 6;
/// Generated month ranges: the one-worker backfill's, the two-worker one's, the kill test's.
const ONE_WORKER_FIRST: Month = Month { year: 2023, month: 7 };
const TWO_WORKERS_FIRST: Month = Month { year: 2024, month: 1 };
const KILL_MONTH: Month = Month { year: 2024, month: 7 };
pub fn run() -> anyhow::Result<()> {
    ensure_redis()?;
    let root = workspace_root();
    let venv = root.join(".tools/airflow");
    install(&venv, &root.join("compose/airflow/requirements.txt"))?;
    stages::build(Profile::Debug)?;

    let work = tempfile::Builder::new().prefix("atl-celery-").tempdir().context("creating a temp folder")?;
    let outcome = run_in(work.path(), &venv);
    if outcome.is_err() {
        // The Airflow logs (scheduler, workers, every task's) are the way to the cause.
        let kept = work.keep();
        eprintln!("the run's folder is kept for its logs: {}", kept.display());
    }
    outcome
}

fn run_in(work: &Path, venv: &Path) -> anyhow::Result<()> {
    let mirror_dir = work.join("mirror");
    for kind in KINDS {
        generate(&mirror_dir, kind, &format!("{}..{}", ONE_WORKER_FIRST, KILL_MONTH.plus(-1)), ROWS)?;
    }
    generate(&mirror_dir, "yellow", &KILL_MONTH.to_string(), KILL_ROWS)?;
    generate(&mirror_dir, "fhvhv", &KILL_MONTH.to_string(), ROWS)?;
    let mirror = TlcMirror::start(&mirror_dir).context("starting the TLC mirror")?;
    let warehouse = PgServer::temp().context("starting the warehouse server")?;
    let mart = PgServer::temp().context("starting the mart server")?;
    let meta = PgServer::temp().context("starting Airflow's database server")?;
    meta.create_database("airflow").context("creating Airflow's database")?;

    let mut stack = Stack::start(work, venv, &mirror, &meta)?;

    let one = stack.timed_backfill("one worker", &["w1"], ONE_WORKER_FIRST, (&warehouse, &mart, "one"))?;
    checks::where_the_time_went(&meta, one.backfill_id, &warehouse, &mart, &one.db)?;
    let two =
        stack.timed_backfill("two workers", &["w1", "w2"], TWO_WORKERS_FIRST, (&warehouse, &mart, "two"))?;
    // Before the kill test adds its month to the same databases.
    checks::where_the_time_went(&meta, two.backfill_id, &warehouse, &mart, &two.db)?;
    let generated: Vec<(&str, usize)> = KINDS.iter().map(|kind| (*kind, ROWS)).collect();
    checks::months_once(&warehouse, &mart, "one", (ONE_WORKER_FIRST, MONTHS), &generated)?;
    checks::both_workers_ran(&meta, two.backfill_id, &["w1", "w2"])?;
    checks::months_once(&warehouse, &mart, "two", (TWO_WORKERS_FIRST, MONTHS), &generated)?;
    checks::pools_respected(&meta, two.backfill_id, &stack.pools)?;
    checks::builds_one_at_a_time(&meta, two.backfill_id)?;

    stack.kill_mid_load(&warehouse)?;
    checks::months_once(
        &warehouse,
        &mart,
        "two",
        (KILL_MONTH, 1),
        &[("yellow", KILL_ROWS), ("fhvhv", ROWS)],
    )?;

    println!();
    println!(
        "backfill of {MONTHS} months of {} ({ROWS} rows each), wall time from `airflow backfill create` to the last run's end:",
        KINDS.join(" and ")
    );
    for (label, timed) in [("one worker", &one), ("two workers", &two)] {
        println!("  {label:<12} {:>6.1} s", timed.wall_seconds);
    }
    Ok(())
}

/// Redis from Debian's package, installed when missing (CI starts on a fresh machine).
fn ensure_redis() -> anyhow::Result<()> {
    if Command::new("redis-server").arg("--version").output().is_ok() {
        return Ok(());
    }
    println!("installing redis-server (apt-get)");
    let update =
        Command::new("apt-get").args(["update", "-qq"]).status().context("running apt-get update")?;
    ensure!(update.success(), "apt-get update failed ({update})");
    let status = Command::new("apt-get")
        .args(["install", "-y", "-qq", "redis-server"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("running apt-get install redis-server")?;
    ensure!(status.success(), "apt-get install redis-server failed ({status}); install it by hand");
    Ok(())
}

/// A timed backfill: its id in Airflow's database, its wall time, the databases it filled.
struct Timed {
    backfill_id: i64,
    wall_seconds: f64,
    db: String,
}

impl Stack<'_> {
    /// Backfills `MONTHS` months from `first` with the workers `names`, into databases of its
    /// own on the two servers; returns its wall time.
    fn timed_backfill(
        &mut self,
        label: &str,
        names: &[&str],
        first: Month,
        (warehouse, mart, db): (&PgServer, &PgServer, &str),
    ) -> anyhow::Result<Timed> {
        println!("==> backfill of {MONTHS} months from {first}, {label}");
        warehouse.create_database(db).with_context(|| format!("creating warehouse database {db}"))?;
        mart.create_database(db).with_context(|| format!("creating mart database {db}"))?;
        self.stop_workers();
        self.phase_env = vec![
            ("ATL__WAREHOUSE__URL".to_owned(), warehouse.url(db)),
            ("ATL__MART__URL".to_owned(), mart.url(db)),
            (
                "ATL__LAKE__URL".to_owned(),
                format!("file://{}", self.work.join(format!("lake-{db}")).display()),
            ),
            ("ATL__VIZ__OUT_DIR".to_owned(), self.work.join(format!("reports-{db}")).display().to_string()),
        ];
        let phase_env = self.phase_env.clone();
        for name in names {
            self.start_worker(name, &phase_env)?;
        }
        let started = epoch_seconds();
        let id = self.backfill(first, first.plus(MONTHS as i32 - 1))?;
        self.wait_for_backfill(id, MONTHS, Duration::from_secs(900))?;
        let ended: f64 = self
            .meta
            .psql(
                "airflow",
                &format!("SELECT extract(epoch FROM max(end_date)) FROM dag_run WHERE backfill_id = {id}"),
            )?
            .parse()
            .context("reading the backfill's end")?;
        let wall_seconds = ended - started;
        println!("<== backfill {id} ({label}): {MONTHS} runs succeeded in {wall_seconds:.1} s");
        Ok(Timed { backfill_id: id, wall_seconds, db: db.to_owned() })
    }

    /// Backfills `KILL_MONTH` and SIGKILLs the worker running its yellow warehouse load in the
    /// middle of the COPY (every process of that worker: a machine lost), then starts the
    /// worker again, as a container would be; checks the task was retried and succeeded.
    fn kill_mid_load(&mut self, warehouse: &PgServer) -> anyhow::Result<()> {
        println!(
            "==> backfill of {KILL_MONTH} ({KILL_ROWS} yellow rows), SIGKILL of a worker in its warehouse load"
        );
        let id = self.backfill(KILL_MONTH, KILL_MONTH)?;
        // Only the big yellow month has more rows than ROWS: a COPY past that is its load.
        let copying = "SELECT coalesce(max(tuples_processed), 0) FROM pg_stat_progress_copy";
        let mut rows_copied = 0;
        processes::wait_until(
            "the yellow month's COPY into the warehouse",
            Duration::from_secs(300),
            || {
                self.check_alive()?;
                rows_copied = warehouse.psql("two", copying)?.parse().unwrap_or(0);
                Ok(rows_copied > ROWS)
            },
        )?;
        let task = "load_warehouse_yellow";
        let host = self.meta.psql(
            "airflow",
            &format!(
                "SELECT ti.hostname FROM task_instance ti JOIN dag_run dr USING (dag_id, run_id) \
                 WHERE dr.backfill_id = {id} AND ti.task_id = '{task}' AND ti.state = 'running'"
            ),
        )?;
        let index = self
            .workers
            .iter()
            .position(|(name, _)| *name == host)
            .with_context(|| format!("{task} runs on {host:?}, which is none of this run's workers"))?;
        let (name, mut worker) = self.workers.remove(index);
        let tree = worker.tree();
        ensure!(
            tree.iter().any(|p| processes::comm(*p).as_deref() == Some("atl-warehouse")),
            "worker {name} runs {task}, but no atl-warehouse process is among its processes"
        );
        worker.kill_tree()?;
        println!(
            "    SIGKILLed worker {name} and its {} processes (atl-warehouse among them) with {rows_copied} rows of the COPY done",
            tree.len() - 1
        );
        let phase_env = self.phase_env.clone();
        self.start_worker(&name, &phase_env)?;
        self.wait_for_backfill(id, 1, Duration::from_secs(600))?;
        checks::retried_once(self.meta, id, task, &name)?;
        Ok(())
    }
}

fn epoch_seconds() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}
