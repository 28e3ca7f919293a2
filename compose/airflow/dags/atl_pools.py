"""The Airflow pools of atl_monthly, sized from the atl configuration, so that a backfill
never runs more of one kind of task at once than its server is configured for:

  atl_source     source.concurrency     downloads from the TLC at once (ingest_<kind>)
  atl_warehouse  warehouse.parallelism  months loaded into the warehouse at once
  atl_mart       mart.parallelism       mart builds at once (1: the builds of a mart server
                                        share one staging table and wait for each other)

The DAG imports the names; run as a script (`python atl_pools.py`, with the Python that
has Airflow) it creates or resizes the pools. The sizes are read the way the atl
binaries read them, less the current folder's atl.toml: the file named by ATL_CONFIG
(default: the repository's atl.toml, the binaries' embedded defaults), then the
ATL__SECTION__KEY variables.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

SOURCE_POOL = "atl_source"
WAREHOUSE_POOL = "atl_warehouse"
MART_POOL = "atl_mart"

# Pool → (config section, key).
SIZES = {
    SOURCE_POOL: ("source", "concurrency"),
    WAREHOUSE_POOL: ("warehouse", "parallelism"),
    MART_POOL: ("mart", "parallelism"),
}


def config_file() -> Path:
    if os.environ.get("ATL_CONFIG"):
        return Path(os.environ["ATL_CONFIG"])
    # compose/airflow/dags/ → the repository root.
    return Path(__file__).resolve().parents[3] / "atl.toml"


def sizes() -> dict[str, int]:
    path = config_file()
    with path.open("rb") as f:
        config = tomllib.load(f)
    out = {}
    for pool, (section, key) in SIZES.items():
        variable = f"ATL__{section.upper()}__{key.upper()}"
        raw = os.environ.get(variable, config.get(section, {}).get(key))
        if raw is None:
            sys.exit(f"{path}: no {section}.{key} (nor {variable}) to size pool {pool}")
        try:
            size = int(raw)
        except ValueError:
            sys.exit(f"{section}.{key} = {raw!r} ({path} or {variable}) is not a number, for pool {pool}")
        if size < 1:
            sys.exit(f"{section}.{key} = {size} ({path} or {variable}): pool {pool} needs at least 1 slot")
        out[pool] = size
    return out


def main() -> None:
    pools = {
        name: {"slots": size, "description": f"{SIZES[name][0]}.{SIZES[name][1]}", "include_deferred": False}
        for name, size in sizes().items()
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(pools, f)
        f.flush()
        subprocess.run([sys.executable, "-m", "airflow", "pools", "import", f.name], check=True, stdout=subprocess.DEVNULL)
    print("pools:", ", ".join(f"{name}={p['slots']}" for name, p in pools.items()))


if __name__ == "__main__":
    main()
