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

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail, ensure};
use atl_devservices::{PgServer, TlcMirror};

use super::checks::{self, Month};
use super::processes::{self, Daemon};
use super::{KINDS, generate, install};
use crate::stages::{self, Profile};
use crate::workspace_root;

/// Rows of each generated month of the timed backfills: small, so that the time measured is
/// the orchestration's.
const ROWS: usize = 5000;
/// Rows of the yellow month whose load is interrupted: long enough a COPY to kill a worker in.
const KILL_ROWS: usize = 400_000;
/// Months of one timed backfill, and runs of it at once (`--max-active-runs`).
const MONTHS: usize = 6;
/// Task slots of each Celery worker.
const WORKER_CONCURRENCY: &str = "4";
/// Generated month ranges: the one-worker backfill's, the two-worker one's, the kill test's.
const ONE_WORKER_FIRST: Month = Month { year: 2023, month: 7 };
const TWO_WORKERS_FIRST: Month = Month { year: 2024, month: 1 };
const KILL_MONTH: Month = Month { year: 2024, month: 7 };
/// How long a heartbeat-less task counts as running, and the wait before a retry: short
/// here, so that the killed worker's task comes back within a minute.
const HEARTBEAT_TIMEOUT_SECS: &str = "30";
const RETRY_DELAY_SECS: &str = "5";
/// Names each worker's task instances with the worker's name (task_instance.hostname):
/// on one machine every worker has the same host name.
const WORKER_NAME_MODULE: &str = "import os\nimport socket\n\n\ndef hostname():\n    \
    return os.environ.get(\"ATL_WORKER_NAME\") or socket.getfqdn()\n";

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

/// Redis, Airflow's components and the workers, all running.
struct Stack<'a> {
    work: PathBuf,
    bin: PathBuf,
    env: Vec<(String, String)>,
    meta: &'a PgServer,
    /// The pools atl_pools.py made: (name, slots).
    pools: Vec<(String, i64)>,
    /// The databases, lake and reports folder of the current backfill, for the workers.
    phase_env: Vec<(String, String)>,
    // Fields drop in order: the workers stop before the components they talk to.
    workers: Vec<(String, Daemon)>,
    components: Vec<Daemon>,
}

impl<'a> Stack<'a> {
    fn start(work: &Path, venv: &Path, mirror: &TlcMirror, meta: &'a PgServer) -> anyhow::Result<Stack<'a>> {
        let bin = venv.join("bin");
        let root = workspace_root();
        let python_path = work.join("python");
        std::fs::create_dir_all(&python_path).context("creating the worker-name module's folder")?;
        std::fs::write(python_path.join("atl_worker_name.py"), WORKER_NAME_MODULE)
            .context("writing the worker-name module")?;
        let api_port = processes::free_port()?;
        let redis_port = processes::free_port()?;
        let meta_url = meta.url("airflow").replacen("postgres://", "postgresql+psycopg2://", 1);
        let env: Vec<(String, String)> = [
            ("AIRFLOW_HOME", work.join("airflow").display().to_string()),
            ("AIRFLOW__CORE__LOAD_EXAMPLES", "False".into()),
            ("AIRFLOW__CORE__DAGS_FOLDER", root.join("compose/airflow/dags").display().to_string()),
            ("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor".into()),
            ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", meta_url.clone()),
            ("AIRFLOW__CELERY__BROKER_URL", format!("redis://127.0.0.1:{redis_port}/0")),
            ("AIRFLOW__CELERY__RESULT_BACKEND", format!("db+{meta_url}")),
            ("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", format!("http://127.0.0.1:{api_port}/execution/")),
            ("AIRFLOW__API__HOST", "127.0.0.1".into()),
            ("AIRFLOW__API__PORT", api_port.to_string()),
            ("AIRFLOW__API__WORKERS", "1".into()),
            ("AIRFLOW__API_AUTH__JWT_SECRET", "atl-celery-run".into()),
            // Only backfills here: no scheduled (catchup) runs beside them.
            ("AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE", "False".into()),
            ("AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT", HEARTBEAT_TIMEOUT_SECS.into()),
            ("AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY", RETRY_DELAY_SECS.into()),
            ("AIRFLOW__CORE__HOSTNAME_CALLABLE", "atl_worker_name.hostname".into()),
            ("PYTHONPATH", python_path.display().to_string()),
            ("ATL_CONFIG", root.join("atl.toml").display().to_string()),
            ("ATL_BIN_DIR", stages::bin_dir(Profile::Debug).display().to_string()),
            ("ATL_KINDS", KINDS.join(",")),
            ("ATL__SOURCE__BASE_URL", mirror.base_url()),
            ("RUST_LOG", "warn".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let mut stack = Stack {
            work: work.to_owned(),
            bin,
            env,
            meta,
            pools: Vec::new(),
            phase_env: Vec::new(),
            workers: Vec::new(),
            components: Vec::new(),
        };

        let mut redis = Daemon::start(
            "redis-server",
            Path::new("redis-server"),
            &["--port", &redis_port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            &[],
            work,
            work.join("redis.log"),
        )?;
        processes::wait_for_port(&mut redis, redis_port, Duration::from_secs(30))?;
        stack.components.push(redis);

        stack.airflow(&["db", "migrate"])?;
        let pools = root.join("compose/airflow/dags/atl_pools.py");
        stack.command(&stack.bin.join("python"), &[&pools.display().to_string()])?;
        stack.pools = checks::pools(meta)?;
        for component in ["api-server", "scheduler", "dag-processor"] {
            let daemon = Daemon::start(
                component,
                &stack.bin.join("airflow"),
                &[component],
                &stack.env,
                work,
                work.join(format!("{component}.log")),
            )?;
            stack.components.push(daemon);
        }
        processes::wait_for_port(&mut stack.components[1], api_port, Duration::from_secs(180))?;
        let dag_parsed = "SELECT count(*) FROM serialized_dag WHERE dag_id = 'atl_monthly'";
        processes::wait_until("the DAG processor to store atl_monthly", Duration::from_secs(180), || {
            stack.check_alive()?;
            Ok(meta.psql("airflow", dag_parsed)? == "1")
        })?;
        stack.airflow(&["dags", "unpause", "atl_monthly"])?;
        Ok(stack)
    }

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

    /// `airflow backfill create` for the runs whose loaded months are `first..=last`
    /// (the DAG loads the month two before its run's); returns the backfill's id.
    fn backfill(&self, first: Month, last: Month) -> anyhow::Result<i64> {
        let (from, to) = (first.plus(2).first_day(), last.plus(2).first_day());
        self.airflow(&[
            "backfill",
            "create",
            "--dag-id",
            "atl_monthly",
            "--from-date",
            &from,
            "--to-date",
            &to,
            "--max-active-runs",
            &MONTHS.to_string(),
        ])?;
        self.meta
            .psql("airflow", "SELECT max(id) FROM backfill")?
            .parse()
            .context("reading the backfill's id")
    }

    fn wait_for_backfill(&mut self, id: i64, runs: usize, timeout: Duration) -> anyhow::Result<()> {
        let states = format!(
            "SELECT count(*) FILTER (WHERE state = 'success') || ' ' || count(*) FILTER (WHERE state = 'failed') \
             FROM dag_run WHERE backfill_id = {id}"
        );
        let mut failed = 0;
        processes::wait_until(&format!("backfill {id}'s {runs} runs"), timeout, || {
            self.check_alive()?;
            std::thread::sleep(Duration::from_millis(800));
            let counts = self.meta.psql("airflow", &states)?;
            let (done, bad) = counts.split_once(' ').context("reading the runs' states")?;
            failed = bad.parse()?;
            Ok(done.parse::<usize>()? + failed >= runs)
        })?;
        if failed > 0 {
            bail!(
                "backfill {id}: {failed} of {runs} runs failed; tasks not successful (run, task, state, try, worker):\n{}\nthe tasks' logs are under {}",
                checks::unsuccessful_tasks(self.meta, id)?,
                self.work.join("airflow/logs").display()
            );
        }
        // Airflow runs one backfill of a DAG at a time: the next waits until the scheduler
        // has closed this one.
        let closed = format!("SELECT completed_at IS NOT NULL FROM backfill WHERE id = {id}");
        processes::wait_until(
            &format!("the scheduler to close backfill {id}"),
            Duration::from_secs(120),
            || {
                self.check_alive()?;
                Ok(self.meta.psql("airflow", &closed)? == "t")
            },
        )
    }

    fn start_worker(&mut self, name: &str, phase_env: &[(String, String)]) -> anyhow::Result<()> {
        let mut env = self.env.clone();
        env.extend(phase_env.iter().cloned());
        env.push(("ATL_WORKER_NAME".into(), name.into()));
        let log = self.work.join(format!("worker-{name}.log"));
        let mut worker = Daemon::start(
            &format!("worker {name}"),
            &self.bin.join("airflow"),
            &[
                "celery",
                "worker",
                "--concurrency",
                WORKER_CONCURRENCY,
                "--celery-hostname",
                &format!("{name}@%h"),
            ],
            &env,
            &self.work,
            log.clone(),
        )?;
        processes::wait_until(&format!("worker {name} to be ready"), Duration::from_secs(120), || {
            worker.check_alive()?;
            Ok(std::fs::read_to_string(&log).unwrap_or_default().contains(&format!("{name}@"))
                && std::fs::read_to_string(&log).unwrap_or_default().contains(" ready."))
        })?;
        self.workers.push((name.to_owned(), worker));
        Ok(())
    }

    fn stop_workers(&mut self) {
        for (_, mut worker) in self.workers.drain(..) {
            worker.stop();
        }
    }

    fn check_alive(&mut self) -> anyhow::Result<()> {
        for daemon in self.components.iter_mut().chain(self.workers.iter_mut().map(|(_, w)| w)) {
            daemon.check_alive()?;
        }
        Ok(())
    }

    fn airflow(&self, args: &[&str]) -> anyhow::Result<()> {
        self.command(&self.bin.join("airflow"), args)
    }

    fn command(&self, program: &Path, args: &[&str]) -> anyhow::Result<()> {
        let log = self.work.join("commands.log");
        let out = std::fs::OpenOptions::new().create(true).append(true).open(&log)?;
        let status = Command::new(program)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.work)
            .stdout(out.try_clone()?)
            .stderr(out)
            .status()
            .with_context(|| format!("running {}", program.display()))?;
        if !status.success() {
            bail!(
                "{} {} failed ({status}); the end of {}:\n{}",
                program.display(),
                args.join(" "),
                log.display(),
                processes::tail(&log, 30)
            );
        }
        Ok(())
    }
}

fn epoch_seconds() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}
