//! The Celery run's services: Redis, Airflow's database migrated and its pools made, the
//! API server, the scheduler and the DAG processor, and the Celery workers, each a process
//! with its own log in the run's folder; and the Airflow commands the run gives them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use atl_devservices::{PgServer, TlcMirror};

use super::KINDS;
use super::celery::MONTHS;
use super::checks::{self, Month};
use super::processes::{self, Daemon};
use crate::stages::{self, Profile};
use crate::workspace_root;

/// Task slots of each Celery worker.
const WORKER_CONCURRENCY: &str = "4";
/// How long a heartbeat-less task counts as running, and the wait before a retry: short
/// here, so that the killed worker's task comes back within a minute.
const HEARTBEAT_TIMEOUT_SECS: &str = "30";
const RETRY_DELAY_SECS: &str = "5";
/// Names each worker's task instances with the worker's name (task_instance.hostname):
/// on one machine every worker has the same host name.
const WORKER_NAME_MODULE: &str = "import os\nimport socket\n\n\ndef hostname():\n    \
    return os.environ.get(\"ATL_WORKER_NAME\") or socket.getfqdn()\n";

/// Redis, Airflow's components and the workers, all running.
pub(super) struct Stack<'a> {
    pub(super) work: PathBuf,
    pub(super) bin: PathBuf,
    pub(super) env: Vec<(String, String)>,
    pub(super) meta: &'a PgServer,
    /// The pools atl_pools.py made: (name, slots).
    pub(super) pools: Vec<(String, i64)>,
    /// The databases, lake and reports folder of the current backfill, for the workers.
    pub(super) phase_env: Vec<(String, String)>,
    // Fields drop in order: the workers stop before the components they talk to.
    pub(super) workers: Vec<(String, Daemon)>,
    pub(super) components: Vec<Daemon>,
}

impl<'a> Stack<'a> {
    pub(super) fn start(
        work: &Path,
        venv: &Path,
        mirror: &TlcMirror,
        meta: &'a PgServer,
    ) -> anyhow::Result<Stack<'a>> {
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

    /// `airflow backfill create` for the runs whose loaded months are `first..=last`
    /// (the DAG loads the month two before its run's); returns the backfill's id.
    pub(super) fn backfill(&self, first: Month, last: Month) -> anyhow::Result<i64> {
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

    pub(super) fn wait_for_backfill(
        &mut self,
        id: i64,
        runs: usize,
        timeout: Duration,
    ) -> anyhow::Result<()> {
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

    pub(super) fn start_worker(&mut self, name: &str, phase_env: &[(String, String)]) -> anyhow::Result<()> {
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

    pub(super) fn stop_workers(&mut self) {
        for (_, mut worker) in self.workers.drain(..) {
            worker.stop();
        }
    }

    pub(super) fn check_alive(&mut self) -> anyhow::Result<()> {
        for daemon in self.components.iter_mut().chain(self.workers.iter_mut().map(|(_, w)| w)) {
            daemon.check_alive()?;
        }
        Ok(())
    }

    pub(super) fn airflow(&self, args: &[&str]) -> anyhow::Result<()> {
        self.command(&self.bin.join("airflow"), args)
    }

    pub(super) fn command(&self, program: &Path, args: &[&str]) -> anyhow::Result<()> {
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
