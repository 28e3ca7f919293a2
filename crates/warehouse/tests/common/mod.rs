//! A temp PostgreSQL server and a temp file:// lake filled with generated months.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use atl_core::{DatabaseConfig, Secret, TripFile, TripKind, YearMonth};
use atl_devservices::PgServer;
use atl_lake::Lake;
use atl_testdata::{Era, TripFileSpec, write_trip_file_to};

pub struct Stack {
    pub pg: PgServer,
    pub lake_dir: tempfile::TempDir,
    pub lake: Lake,
}

impl Stack {
    pub fn start() -> Stack {
        let pg = PgServer::temp().expect("a temp PostgreSQL server");
        let lake_dir = tempfile::tempdir().unwrap();
        let lake = Lake::open_folder(lake_dir.path()).unwrap();
        Stack { pg, lake_dir, lake }
    }

    pub fn db(&self) -> DatabaseConfig {
        DatabaseConfig { url: Secret::new(self.pg.url("postgres")), parallelism: 2 }
    }

    pub fn lake_url(&self) -> String {
        format!("file://{}", self.lake_dir.path().display())
    }

    /// Writes a generated month straight into the lake's layout; returns its path.
    pub fn put_month(&self, kind: TripKind, month: &str, era: Era, rows: usize) -> PathBuf {
        let month: YearMonth = month.parse().unwrap();
        let spec = TripFileSpec::new(kind, month, rows).era(era).row_group_rows(rows.div_ceil(3).max(1));
        self.put_spec(&spec)
    }

    pub fn put_spec(&self, spec: &TripFileSpec) -> PathBuf {
        let path = self.path_of(TripFile::new(spec.kind, spec.month));
        write_trip_file_to(spec, &path).unwrap();
        path
    }

    pub fn path_of(&self, file: TripFile) -> PathBuf {
        self.lake_dir.path().join(file.lake_key())
    }

    pub fn sql(&self, sql: &str) -> String {
        self.pg.psql("postgres", sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub fn count(&self, table: &str) -> i64 {
        self.sql(&format!("SELECT count(*) FROM {table}")).parse().unwrap()
    }

    /// What the loads of `kind` counted (`raw.load_totals`), and the same figures of the rows
    /// they loaded by plain SQL (each money value rounded as numeric, the mart's rule), as
    /// `month licence rows cents` per month and licence.
    pub fn load_totals_and_rows(&self, kind: TripKind) -> (String, String) {
        let money: Vec<String> = atl_core::schema::passenger_total_columns(kind)
            .iter()
            .map(|c| format!("coalesce(round({c}::numeric, 2), 0)"))
            .chain(["0".to_owned()])
            .collect();
        let licence = atl_core::schema::licence_column(kind).unwrap_or("NULL::text");
        let logged = self.sql(&format!(
            "SELECT string_agg(month || ' ' || coalesce(licence, '-') || ' ' || rows || ' ' || passenger_cents, ',' \
             ORDER BY month, licence NULLS FIRST) FROM raw.load_totals WHERE kind = '{kind}'"
        ));
        let counted = self.sql(&format!(
            "SELECT string_agg(m || ' ' || coalesce(l, '-') || ' ' || n || ' ' || c, ',' ORDER BY m, l NULLS FIRST) \
             FROM (SELECT source_month AS m, {licence} AS l, count(*) AS n, (sum({}) * 100)::bigint AS c \
                   FROM raw.{kind}_tripdata GROUP BY 1, 2) t",
            money.join(" + ")
        ));
        (logged, counted)
    }
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap()
}

pub fn copy_file(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(from, to).unwrap();
}
