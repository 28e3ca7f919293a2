"""ATL-Datamart monthly refresh: the newest TLC month of every configured kind into the
lake, the warehouse, the mart and the dashboard, at 00:00 on the 1st of every month.

One task chain per kind (ATL_KINDS, comma-separated, default all four: yellow, green, fhv,
fhvhv): ingest_<kind> >> load_warehouse_<kind> >> build_mart_<kind>, the chains side by
side. The warehouse loads kinds in parallel; the mart builds one month at a time (its
builds share the dimensions and wait for each other on the mart server), so the build
tasks queue there. The reference data (zone table) is fetched once, by ingest_reference,
before any build; the dashboard is refreshed once every chain is done.

Each run is responsible for one month: the `month` parameter of a manual run (re-run any
month: Trigger DAG w/ config {"month": "2023-05"}), otherwise the month two before the
run's, the newest month the TLC has published by then (it publishes with a lag of about
two months). Until that month is out, `atl-ingest --require-published` exits 3 and the
task retries every 6 hours for 5 days. Every task calls one atl binary and is idempotent
(a month already in the lake, the warehouse or the mart is skipped or replaced, never
doubled), so retries and catchup backfills are safe.

A backfill of the history (`airflow backfill create --dag-id atl_monthly --from-date ...
--to-date ... --max-active-runs N`) runs several months at once, on as many Celery workers
as there are: the tasks of different months run side by side, limited by the pools of
atl_pools.py (sized from the atl configuration), so the downloads, the warehouse loads and
the mart builds never open more connections at once than source.concurrency,
warehouse.parallelism and mart.parallelism allow. A failed task is retried after
[core] default_task_retry_delay (AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY; the compose
stack sets 10 minutes), on whichever worker is free: a worker that dies in the middle of a
load leaves the month's transaction rolled back, and the retry loads it once.

Binaries are found in $ATL_BIN_DIR (default /usr/local/bin, as in compose/Dockerfile);
the lake and the servers come from the ATL__* variables of the environment.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Param
from atl_pools import MART_POOL, SOURCE_POOL, WAREHOUSE_POOL

BIN = os.environ.get("ATL_BIN_DIR", "/usr/local/bin")
KINDS = [k.strip() for k in os.environ.get("ATL_KINDS", "yellow,green,fhv,fhvhv").split(",") if k.strip()]
PUBLICATION_LAG_MONTHS = 2


def target_month(logical_date, params) -> str:
    """YYYY-MM of the month this run loads."""
    if params.get("month"):
        return params["month"]
    # With a cron schedule, logical_date is the moment the run fires (the 1st, 00:00).
    year, month = logical_date.year, logical_date.month - PUBLICATION_LAG_MONTHS
    while month < 1:
        year, month = year - 1, month + 12
    return f"{year:04d}-{month:02d}"


MONTH = "{{ target_month(logical_date, params) }}"

with DAG(
    dag_id="atl_monthly",
    description="TLC month → lake → warehouse → mart → dashboard",
    schedule="0 0 1 * *",
    start_date=datetime(2023, 3, 1),
    catchup=True,
    max_active_runs=2,
    user_defined_macros={"target_month": target_month},
    params={
        "month": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
            description="Month to (re)load, YYYY-MM; empty: the month two before the run's",
        )
    },
    default_args={"retries": 3},
    tags=["atl", "tlc"],
) as dag:
    reference = BashOperator(
        task_id="ingest_reference",
        bash_command=f"{BIN}/atl-ingest --zones",
    )
    refresh_dashboard = BashOperator(
        task_id="refresh_dashboard",
        bash_command=f"{BIN}/atl-viz dashboard",
    )
    for kind in KINDS:
        ingest = BashOperator(
            task_id=f"ingest_{kind}",
            bash_command=f"{BIN}/atl-ingest --kind {kind} --months {MONTH} --require-published",
            # Not published yet: try again over the following days.
            retries=20,
            retry_delay=timedelta(hours=6),
            pool=SOURCE_POOL,
        )
        load_warehouse = BashOperator(
            task_id=f"load_warehouse_{kind}",
            bash_command=f"{BIN}/atl-warehouse load --kind {kind} --months {MONTH}",
            pool=WAREHOUSE_POOL,
        )
        build_mart = BashOperator(
            task_id=f"build_mart_{kind}",
            bash_command=f"{BIN}/atl-mart build --kind {kind} --months {MONTH}",
            pool=MART_POOL,
        )
        ingest >> load_warehouse >> build_mart >> refresh_dashboard
        reference >> build_mart
