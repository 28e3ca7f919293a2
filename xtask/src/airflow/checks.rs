//! What `cargo xtask airflow --celery` checks after its backfills, read from Airflow's
//! database (task instances, pools) and from the warehouse and the mart, and where a
//! backfill's time went.

use std::fmt;

use anyhow::{Context, ensure};
use atl_devservices::PgServer;

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month {
    pub year: i32,
    pub month: i32,
}

impl Month {
    /// `n` months later (earlier when negative).
    pub fn plus(self, n: i32) -> Month {
        let index = self.year * 12 + self.month - 1 + n;
        Month { year: index.div_euclid(12), month: index.rem_euclid(12) + 1 }
    }

    /// `YYYY-MM-01`.
    pub fn first_day(self) -> String {
        format!("{self}-01")
    }

    /// `YYYYMM`, the mart's month_id.
    fn id(self) -> i32 {
        self.year * 100 + self.month
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// The task instances of backfill `id`: `FROM` and `WHERE` clauses.
fn of_backfill(id: i64) -> String {
    format!("FROM task_instance ti JOIN dag_run dr USING (dag_id, run_id) WHERE dr.backfill_id = {id}")
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| !l.is_empty()).collect()
}

/// The atl pools as Airflow holds them: (name, slots).
pub fn pools(meta: &PgServer) -> anyhow::Result<Vec<(String, i64)>> {
    let text = meta
        .psql("airflow", "SELECT pool || ' ' || slots FROM slot_pool WHERE pool LIKE 'atl\\_%' ORDER BY 1")?;
    let pools: Vec<(String, i64)> = lines(&text)
        .into_iter()
        .map(|l| {
            let (name, slots) = l.split_once(' ').unwrap_or((l, ""));
            Ok((name.to_owned(), slots.parse().with_context(|| format!("pool {name}'s slots: {slots:?}"))?))
        })
        .collect::<anyhow::Result<_>>()?;
    let names: Vec<&str> = pools.iter().map(|(n, _)| n.as_str()).collect();
    ensure!(names == ["atl_mart", "atl_source", "atl_warehouse"], "atl_pools.py made pools {names:?}");
    Ok(pools)
}

/// Every worker named ran tasks of the backfill.
pub fn both_workers_ran(meta: &PgServer, id: i64, workers: &[&str]) -> anyhow::Result<()> {
    let text = meta.psql(
        "airflow",
        &format!(
            "SELECT ti.hostname || ' ' || count(*) {} AND ti.state = 'success' GROUP BY ti.hostname ORDER BY 1",
            of_backfill(id)
        ),
    )?;
    let ran = lines(&text);
    for worker in workers {
        ensure!(
            ran.iter().any(|l| l.split_once(' ').is_some_and(|(h, n)| h == *worker && n != "0")),
            "worker {worker} ran none of backfill {id}'s tasks (tasks per worker: {ran:?})"
        );
    }
    println!("    tasks per worker: {}", ran.join(", "));
    Ok(())
}

/// Every month `first..first+n` of each kind is in the warehouse once (its generated rows,
/// in the load log and in the table) and in the mart once (build_log balanced: the
/// warehouse's rows are the fact's plus the rejected, and the fact table holds what
/// build_log says). `kinds`: (kind, rows of each of its months).
pub fn months_once(
    warehouse: &PgServer,
    mart: &PgServer,
    db: &str,
    (first, n): (Month, usize),
    kinds: &[(&str, usize)],
) -> anyhow::Result<()> {
    let last = first.plus(n as i32 - 1);
    let (from, to) = (first.first_day(), last.first_day());
    for &(kind, rows) in kinds {
        let expected: Vec<String> = (0..n as i32).map(|i| format!("{} {rows}", first.plus(i))).collect();
        let logged = warehouse.psql(
            db,
            &format!(
                "SELECT to_char(month, 'YYYY-MM') || ' ' || rows FROM raw.load_log \
                 WHERE kind = '{kind}' AND month BETWEEN '{from}' AND '{to}' ORDER BY month"
            ),
        )?;
        ensure!(
            lines(&logged) == expected,
            "warehouse load log of {kind} {first}..{last}: {logged:?}, expected {expected:?}"
        );
        let held = warehouse.psql(
            db,
            &format!(
                "SELECT to_char(source_month, 'YYYY-MM') || ' ' || count(*) FROM raw.{kind}_tripdata \
                 WHERE source_month BETWEEN '{from}' AND '{to}' GROUP BY source_month ORDER BY source_month"
            ),
        )?;
        ensure!(
            lines(&held) == expected,
            "warehouse rows of {kind} {first}..{last}: {held:?}, expected {expected:?}"
        );

        let built = mart.psql(
            db,
            &format!(
                "SELECT to_char(to_date(b.month_id::text, 'YYYYMM'), 'YYYY-MM') || ' ' || sum(b.warehouse_rows) \
                 || ' ' || sum(b.fact_rows + b.rejected_rows) FROM mart.build_log b JOIN mart.dim_service s \
                 USING (service_id) WHERE s.kind = '{kind}' AND b.month_id BETWEEN {} AND {} \
                 GROUP BY b.month_id ORDER BY b.month_id",
                first.id(),
                last.id()
            ),
        )?;
        let balanced: Vec<String> = expected.iter().map(|e| format!("{e} {rows}")).collect();
        ensure!(
            lines(&built) == balanced,
            "mart build log of {kind} {first}..{last} (month, warehouse rows, fact + rejected): {built:?}, expected {balanced:?}"
        );
        let fact = if kind == "yellow" { "mart.fact_trip" } else { "mart.fact_for_hire_trip" };
        let facts = mart.psql(
            db,
            &format!(
                "SELECT (SELECT count(*) FROM {fact} f JOIN mart.dim_service s USING (service_id) \
                   JOIN mart.dim_date d ON d.date_id = f.pickup_date_id \
                   WHERE s.kind = '{kind}' AND d.month_id BETWEEN {a} AND {z}) \
                 || ' ' || (SELECT sum(b.fact_rows) FROM mart.build_log b JOIN mart.dim_service s USING (service_id) \
                   WHERE s.kind = '{kind}' AND b.month_id BETWEEN {a} AND {z})",
                a = first.id(),
                z = last.id()
            ),
        )?;
        let (held, logged) = facts.split_once(' ').unwrap_or((&facts, ""));
        ensure!(
            held == logged,
            "{fact} holds {held} rows of {kind} {first}..{last}, build_log says {logged}"
        );
    }
    let kinds: Vec<String> = kinds.iter().map(|(kind, rows)| format!("{kind} ({rows} rows)")).collect();
    println!(
        "    [{db}] every month {first}..{last} of {} is in the warehouse and the mart once, build_log balanced",
        kinds.join(" and ")
    );
    Ok(())
}

/// The (start, end) of the backfill's task instances whose task id is like `pattern`.
fn intervals(meta: &PgServer, id: i64, condition: &str) -> anyhow::Result<Vec<(f64, f64)>> {
    let text = meta.psql(
        "airflow",
        &format!(
            "SELECT extract(epoch FROM ti.start_date) || ' ' || extract(epoch FROM ti.end_date) {} AND {condition} \
             AND ti.start_date IS NOT NULL ORDER BY ti.start_date",
            of_backfill(id)
        ),
    )?;
    lines(&text)
        .into_iter()
        .map(|l| {
            let (a, b) = l.split_once(' ').context("reading a task's start and end")?;
            Ok((a.parse()?, b.parse()?))
        })
        .collect()
}

/// The most intervals open at one moment.
fn most_at_once(intervals: &[(f64, f64)]) -> usize {
    let mut events: Vec<(f64, i32)> = intervals.iter().flat_map(|&(a, b)| [(a, 1), (b, -1)]).collect();
    // At equal times an end comes before a start: a slot handed over is not two at once.
    events.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
    let (mut open, mut most) = (0i32, 0i32);
    for (_, step) in events {
        open += step;
        most = most.max(open);
    }
    most as usize
}

/// No pool ran more of the backfill's tasks at once than its slots.
pub fn pools_respected(meta: &PgServer, id: i64, pools: &[(String, i64)]) -> anyhow::Result<()> {
    for (pool, slots) in pools {
        let spans = intervals(meta, id, &format!("ti.pool = '{pool}'"))?;
        let most = most_at_once(&spans);
        ensure!(!spans.is_empty(), "backfill {id} ran no task in pool {pool}");
        ensure!(most as i64 <= *slots, "pool {pool} has {slots} slots, yet {most} of its tasks ran at once");
        println!("    pool {pool}: {slots} slots, {} tasks, at most {most} at once", spans.len());
    }
    Ok(())
}

/// The mart's builds ran one after the other: they share the mart server's staging table.
pub fn builds_one_at_a_time(meta: &PgServer, id: i64) -> anyhow::Result<()> {
    let spans = intervals(meta, id, "ti.task_id LIKE 'build\\_mart\\_%'")?;
    let most = most_at_once(&spans);
    ensure!(most == 1, "{most} mart builds ran at once; the builds of one mart server wait for each other");
    println!("    {} mart builds, one at a time", spans.len());
    Ok(())
}

/// `task` of backfill `id` failed on worker `killed` and succeeded on a later try.
pub fn retried_once(meta: &PgServer, id: i64, task: &str, killed: &str) -> anyhow::Result<()> {
    let now = meta.psql(
        "airflow",
        &format!(
            "SELECT ti.state || ' ' || ti.try_number || ' ' || ti.hostname {} AND ti.task_id = '{task}'",
            of_backfill(id)
        ),
    )?;
    let tries = meta.psql(
        "airflow",
        &format!(
            "SELECT h.try_number || ' ' || h.state || ' ' || h.hostname FROM task_instance_history h \
             JOIN dag_run dr USING (dag_id, run_id) WHERE dr.backfill_id = {id} AND h.task_id = '{task}' ORDER BY 1"
        ),
    )?;
    let fields: Vec<&str> = now.split(' ').collect();
    ensure!(
        fields.first() == Some(&"success")
            && fields.get(1).and_then(|t| t.parse::<i32>().ok()).is_some_and(|t| t >= 2),
        "{task} after its worker was killed: {now:?} (state, try, worker), expected success on try 2 or later"
    );
    ensure!(
        lines(&tries).first().is_some_and(|t| t.starts_with("1 ") && t.ends_with(&format!(" {killed}"))),
        "{task}'s first try should have run on the killed worker {killed}: tries {tries:?}"
    );
    println!("    {task}: try 1 on {killed} (killed) {}, then {now} (state, try, worker)", lines(&tries)[0]);
    Ok(())
}

/// The backfill's task instances that did not succeed: run, task, state, try, worker.
pub fn unsuccessful_tasks(meta: &PgServer, id: i64) -> anyhow::Result<String> {
    meta.psql(
        "airflow",
        &format!(
            "SELECT ti.run_id || ' ' || ti.task_id || ' ' || coalesce(ti.state, 'none') || ' ' || ti.try_number \
             || ' ' || coalesce(ti.hostname, '-') {} AND ti.state IS DISTINCT FROM 'success' ORDER BY 1",
            of_backfill(id)
        ),
    )
    .context("reading the backfill's tasks")
}

/// Per task (both kinds together): how many, their mean time running, waiting in the Celery
/// queue (queued → started) and waiting for a slot (scheduled → queued); then the stages'
/// own time as the warehouse and the mart logged it.
pub fn where_the_time_went(
    meta: &PgServer,
    id: i64,
    warehouse: &PgServer,
    mart: &PgServer,
    db: &str,
) -> anyhow::Result<()> {
    let table = meta.psql(
        "airflow",
        &format!(
            "SELECT rpad(regexp_replace(ti.task_id, '_(yellow|fhvhv)$', ''), 18) || lpad(count(*)::text, 6) \
             || to_char(avg(extract(epoch FROM ti.end_date - ti.start_date)), '9990.0') \
             || to_char(avg(extract(epoch FROM ti.start_date - ti.queued_dttm)), '9990.0') \
             || to_char(avg(extract(epoch FROM ti.queued_dttm - ti.scheduled_dttm)), '9990.0') \
             || to_char(sum(extract(epoch FROM ti.end_date - ti.start_date)), '99990.0') \
             {} GROUP BY regexp_replace(ti.task_id, '_(yellow|fhvhv)$', '') ORDER BY 1",
            of_backfill(id)
        ),
    )?;
    println!(
        "    where the time went (mean per task; slot: scheduled → queued, waiting for a pool; queue: queued → started):"
    );
    println!("    {:<18}{:>6}{:>8}{:>8}{:>8}{:>9}", "task", "tasks", "run s", "queue s", "slot s", "total s");
    for line in lines(&table) {
        println!("    {line}");
    }
    let loads = warehouse.psql(
        db,
        "SELECT count(*) || ' loads, ' || to_char(sum(extract(epoch FROM finished_at - started_at)), 'FM9990.0') FROM raw.load_log",
    )?;
    let builds = mart.psql(
        db,
        "SELECT count(*) || ' build_log rows (one per HVFHV licence), ' || to_char(sum(seconds), 'FM9990.0') \
         FROM mart.build_log",
    )?;
    println!("    the binaries' own work: warehouse {loads} s; mart {builds} s");
    let first_start = meta.psql(
        "airflow",
        &format!(
            "SELECT to_char(extract(epoch FROM min(ti.start_date) - b.created_at), 'FM9990.0') \
             FROM task_instance ti JOIN dag_run dr USING (dag_id, run_id) JOIN backfill b ON b.id = dr.backfill_id \
             WHERE b.id = {id} GROUP BY b.created_at"
        ),
    )?;
    println!("    from the backfill's creation to its first task's start: {first_start} s");
    // The builds go one at a time through the atl_mart pool: the chain that sets the pace.
    let builds = intervals(meta, id, "ti.task_id LIKE 'build\\_mart\\_%'")?;
    if let (Some(first), Some(last)) = (builds.first(), builds.iter().map(|b| b.1).reduce(f64::max)) {
        let running: f64 = builds.iter().map(|(a, b)| b - a).sum();
        println!(
            "    mart builds: {:.1} s from the first's start to the last's end, {running:.1} s of it running, \
             the rest handing the one slot on (scheduler, Celery queue, task start)",
            last - first.0
        );
    }
    Ok(())
}
