//! `cargo xtask airflow`: the real Apache Airflow 3 against the real binaries.
//!
//! Installs Airflow (pinned in `compose/airflow/requirements.txt`) into `.tools/airflow`,
//! checks that `compose/airflow/dags/atl_monthly.py` imports without errors, runs at 00:00
//! on the 1st of each month and chains ingest → warehouse → mart per kind, then the
//! dashboard, and runs `airflow dags test` for one month of two kinds (yellow and fhvhv)
//! against a local mirror of generated months, a temp lake and two throwaway PostgreSQL
//! servers, and checks both months reached the mart. With `--celery`, [`celery`] runs the
//! DAG on the CeleryExecutor: backfills, workers, a worker killed mid-load.

mod celery;
mod checks;
mod processes;
mod stack;

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail, ensure};
use atl_devservices::{PgServer, TlcMirror};

use crate::flags::AirflowArgs;
use crate::stages::{self, Profile};
use crate::workspace_root;

/// The run's logical date; the DAG loads the month two before it.
const RUN_DATE: &str = "2024-03-01";
const LOADED_MONTH_ID: &str = "202401";
/// The kinds the DAG runs here (ATL_KINDS): a taxi and the high-volume for-hire services.
const KINDS: [&str; 2] = ["yellow", "fhvhv"];

const CHECK_DAG: &str = r#"
import sys
# As Airflow's own processes do: the DAG imports atl_pools.py beside it.
sys.path.insert(0, sys.argv[1])
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
dag = bag.get_dag("atl_monthly")
assert dag is not None, "no DAG atl_monthly"
assert dag.timetable.expression == "0 0 1 * *", dag.timetable.expression
assert dag.catchup, "catchup must backfill missing months"
order = {t.task_id: sorted(t.downstream_task_ids) for t in dag.tasks}
expected = {"ingest_reference": ["build_mart_fhvhv", "build_mart_yellow"], "refresh_dashboard": []}
for kind in ("yellow", "fhvhv"):
    expected.update({f"ingest_{kind}": [f"load_warehouse_{kind}"],
                     f"load_warehouse_{kind}": [f"build_mart_{kind}"],
                     f"build_mart_{kind}": ["refresh_dashboard"]})
assert order == expected, order
pools = {t.task_id: t.pool for t in dag.tasks if t.task_id.startswith(("ingest_", "load_", "build_"))}
for kind in ("yellow", "fhvhv"):
    for task, pool in ((f"ingest_{kind}", "atl_source"), (f"load_warehouse_{kind}", "atl_warehouse"),
                       (f"build_mart_{kind}", "atl_mart")):
        assert pools[task] == pool, (task, pools[task])
print("atl_monthly: imports, monthly schedule, one chain per kind:", ", ".join(sorted(expected)),
      "; downloads, loads and builds in pools atl_source, atl_warehouse, atl_mart")
"#;

pub fn run(args: &AirflowArgs) -> anyhow::Result<()> {
    if args.celery {
        return celery::run();
    }
    let root = workspace_root();
    let venv = root.join(".tools/airflow");
    install(&venv, &root.join("compose/airflow/requirements.txt"))?;
    stages::build(Profile::Debug)?;

    let work = tempfile::tempdir().context("creating a temp folder")?;
    let mirror_dir = work.path().join("mirror");
    for kind in KINDS {
        generate(&mirror_dir, kind, "2024-01", 5000)?;
    }
    let mirror = TlcMirror::start(&mirror_dir).context("starting the TLC mirror")?;
    let warehouse = PgServer::temp().context("starting the warehouse server")?;
    let mart = PgServer::temp().context("starting the mart server")?;

    let dags = root.join("compose/airflow/dags");
    let airflow_home = work.path().join("airflow");
    let env: Vec<(&str, String)> = vec![
        ("AIRFLOW_HOME", airflow_home.display().to_string()),
        ("AIRFLOW__CORE__LOAD_EXAMPLES", "False".into()),
        ("AIRFLOW__CORE__DAGS_FOLDER", dags.display().to_string()),
        ("ATL_BIN_DIR", stages::bin_dir(Profile::Debug).display().to_string()),
        ("ATL__SOURCE__BASE_URL", mirror.base_url()),
        ("ATL__LAKE__URL", format!("file://{}", work.path().join("lake").display())),
        ("ATL__WAREHOUSE__URL", warehouse.url("postgres")),
        ("ATL__MART__URL", mart.url("postgres")),
        ("ATL__VIZ__OUT_DIR", work.path().join("reports").display().to_string()),
        ("ATL_KINDS", KINDS.join(",")),
        ("RUST_LOG", "warn".into()),
    ];
    let bin = venv.join("bin");
    let python = bin.join("python");
    command(&bin.join("airflow"), &["db", "migrate"], &env, work.path())?;
    command(&python, &["-c", CHECK_DAG, &dags.display().to_string()], &env, work.path())?;
    command(&bin.join("airflow"), &["dags", "test", "atl_monthly", RUN_DATE], &env, work.path())?;

    let built = mart
        .psql(
            "postgres",
            &format!(
                "SELECT string_agg(s.kind || '=' || n, ',' ORDER BY s.kind) FROM \
                 (SELECT s.kind, sum(fact_rows + rejected_rows) AS n FROM mart.build_log b \
                  JOIN mart.dim_service s USING (service_id) WHERE month_id = {LOADED_MONTH_ID} GROUP BY 1) s"
            ),
        )
        .context("reading the mart's build log")?;
    ensure!(
        built == "fhvhv=5000,yellow=5000",
        "after `airflow dags test` the mart should hold 5000 rows of {LOADED_MONTH_ID} per kind, found {built:?}"
    );
    ensure!(
        work.path().join("reports/dashboard/index.html").is_file(),
        "the DAG did not write the dashboard"
    );
    println!(
        "airflow dags test atl_monthly {RUN_DATE}: month {LOADED_MONTH_ID} of {} is in the mart (5000 rows each) and on the dashboard",
        KINDS.join(" and ")
    );
    Ok(())
}

/// Installs (or brings up to date) the pinned requirements into `venv`; a copy of the
/// requirements installed last lives in the venv, so that a changed file reinstalls.
fn install(venv: &Path, requirements: &Path) -> anyhow::Result<()> {
    let wanted = std::fs::read_to_string(requirements)
        .with_context(|| format!("reading {}", requirements.display()))?;
    let stamp = venv.join("requirements.txt");
    if venv.join("bin/airflow").is_file() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&*wanted)
    {
        return Ok(());
    }
    println!("installing {} into {} (a minute or two)", requirements.display(), venv.display());
    if !venv.join("bin/pip").is_file() {
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(venv)
            .status()
            .context("running python3 -m venv")?;
        ensure!(status.success(), "python3 -m venv {} failed", venv.display());
    }
    let status = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "-r"])
        .arg(requirements)
        .status()
        .context("running pip")?;
    ensure!(status.success(), "pip install -r {} failed", requirements.display());
    std::fs::write(&stamp, wanted).with_context(|| format!("writing {}", stamp.display()))?;
    Ok(())
}

/// Generates `months` (YYYY-MM or a range) of `kind`, `rows` rows each, into the mirror folder,
/// with the generator of the debug build ([`stages::build`] makes it: the workspace's test
/// build, so no second feature set of the dependencies is compiled).
fn generate(out: &Path, kind: &str, months: &str, rows: usize) -> anyhow::Result<()> {
    let generator = stages::bin_dir(Profile::Debug).join("examples/generate");
    let status = Command::new(&generator)
        .args(["--kind", kind, "--months", months, "--rows", &rows.to_string(), "--out"])
        .arg(out)
        .stdout(std::process::Stdio::null())
        .status()
        .with_context(|| format!("running {}", generator.display()))?;
    ensure!(status.success(), "generating {kind} {months} failed");
    Ok(())
}

fn command(program: &Path, args: &[&str], env: &[(&str, String)], cwd: &Path) -> anyhow::Result<()> {
    println!(
        "==> {} {}",
        program.file_name().unwrap_or_default().to_string_lossy(),
        args.first().unwrap_or(&"")
    );
    let status = Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(cwd)
        .status()
        .with_context(|| format!("running {}", program.display()))?;
    if !status.success() {
        let shown = if args.first() == Some(&"-c") { "<the DAG check>".to_owned() } else { args.join(" ") };
        bail!("{} {shown} failed ({status})", program.display());
    }
    Ok(())
}
