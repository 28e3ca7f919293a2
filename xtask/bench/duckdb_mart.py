"""The mart benchmark's peer: DuckDB's postgres extension moving a warehouse month to the mart.

    python duckdb_mart.py prepare <warehouse> <mart> <kind> <month>   # the mart's table (raw shape)
    python duckdb_mart.py move <warehouse> <mart> <kind> <month>      # TRUNCATE and INSERT, one transaction

`move` is the least a DuckDB pipeline from the warehouse to the mart does: the month's raw
rows, every column, read from the warehouse and written into one table of the mart, with no
cleaning, no conversion, no aggregate and no accounting. `atl-mart build` does all of those
on the same rows; this peer only bounds from below what DuckDB would take for them. The
TRUNCATE shares the INSERT's transaction, so that at wal_level=minimal the rows skip WAL as
the build's new partition does.

The extension is loaded, and the table made and replaced, as duckdb_load.py does.
"""

import sys

import duckdb

from duckdb_load import extension_file, prepare, replace


MODES = {"prepare": prepare, "move": replace}


def main():
    mode, warehouse, mart, kind, month = sys.argv[1:6]
    if mode not in MODES:
        sys.exit(f"unknown mode {mode} (one of {', '.join(MODES)})")
    con = duckdb.connect()
    con.load_extension(extension_file())
    con.execute(f"ATTACH '{warehouse}' AS wh (TYPE postgres, READ_ONLY)")
    con.execute(f"ATTACH '{mart}' AS mart (TYPE postgres)")
    rows = f"wh.raw.{kind}_tripdata WHERE source_month = DATE '{month}'"
    MODES[mode](con, "mart", f"bench_duckdb_{kind}", rows)


if __name__ == "__main__":
    main()
