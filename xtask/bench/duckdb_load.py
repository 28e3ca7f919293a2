"""The warehouse benchmark's peer: DuckDB's postgres extension loading a Parquet file.

    python duckdb_load.py prepare <conninfo> <table> <parquet>   # create <table> (shape of the file)
    python duckdb_load.py load <conninfo> <table> <parquet>      # INSERT every row into it
    python duckdb_load.py replace <conninfo> <table> <parquet>   # TRUNCATE and INSERT, one transaction

`replace` is what a user of DuckDB would write to replace a month that readers may be
querying: the old rows stay readable until the COMMIT (PostgreSQL keeps the truncated file
until then), as they do during `atl-warehouse load --force`.

The extension comes from the duckdb-extension-postgres wheel (same version as duckdb), whose
file is named postgres.duckdb_extension while DuckDB expects the extension's own name,
postgres_scanner, in the file name: it is copied once under that name next to the venv.
"""

import os
import shutil
import sys

import duckdb
import duckdb_extension_postgres


def extension_file():
    version = duckdb.__version__
    shipped = os.path.join(
        os.path.dirname(duckdb_extension_postgres.__file__),
        "extensions",
        f"v{version}",
        "postgres.duckdb_extension",
    )
    renamed = os.path.join(sys.prefix, "duckdb-extensions", f"v{version}", "postgres_scanner.duckdb_extension")
    if not os.path.exists(renamed):
        os.makedirs(os.path.dirname(renamed), exist_ok=True)
        shutil.copyfile(shipped, renamed + ".tmp")
        os.replace(renamed + ".tmp", renamed)
    return renamed


def prepare(con, db, table, source):
    """Makes the attached server `db`'s table public.<table> in the shape of `source`'s rows."""
    con.execute(f"DROP TABLE IF EXISTS {db}.public.{table}")
    con.execute(f"CREATE TABLE {db}.public.{table} AS SELECT * FROM {source} LIMIT 0")


def replace(con, db, table, source):
    """Replaces the rows of `db`'s public.<table> with `source`'s, in one transaction."""
    # postgres_execute runs on the connection of DuckDB's open transaction.
    con.execute("BEGIN")
    con.execute(f"CALL postgres_execute('{db}', 'TRUNCATE public.{table}')")
    con.execute(f"INSERT INTO {db}.public.{table} SELECT * FROM {source}")
    con.execute("COMMIT")


def main():
    mode, conninfo, table, parquet = sys.argv[1:5]
    source = f"read_parquet('{parquet}')"
    con = duckdb.connect()
    con.load_extension(extension_file())
    con.execute(f"ATTACH '{conninfo}' AS pg (TYPE postgres)")
    if mode == "prepare":
        prepare(con, "pg", table, source)
    elif mode == "load":
        con.execute(f"INSERT INTO pg.public.{table} SELECT * FROM {source}")
    elif mode == "replace":
        replace(con, "pg", table, source)
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
