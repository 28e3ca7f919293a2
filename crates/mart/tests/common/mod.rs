//! A warehouse server, a mart server and a lake, shared by the mart's integration tests.
#![allow(dead_code)] // each test file uses its own share of the helpers

use atl_core::{DatabaseConfig, Secret, TripFile, TripKind, YearMonth};
use atl_devservices::PgServer;
use atl_lake::Lake;
use atl_mart::BuildRequest;
use atl_testdata::{Era, TripFileSpec, write_trip_file_to, zone_table_csv};
use atl_warehouse::LoadRequest;

/// A warehouse server, a different mart server and a file:// lake.
pub struct Stack {
    pub warehouse: PgServer,
    pub mart: PgServer,
    pub lake_dir: tempfile::TempDir,
    pub lake: Lake,
    pub rt: tokio::runtime::Runtime,
}

impl Stack {
    pub fn start(with_zones: bool) -> Stack {
        let warehouse = PgServer::temp().expect("a temp PostgreSQL server for the warehouse");
        let mart = PgServer::temp().expect("a temp PostgreSQL server for the mart");
        let lake_dir = tempfile::tempdir().unwrap();
        let lake = Lake::open_folder(lake_dir.path()).unwrap();
        if with_zones {
            let path = lake_dir.path().join(atl_core::ZONES_LAKE_KEY);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, zone_table_csv()).unwrap();
        }
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        Stack { warehouse, mart, lake_dir, lake, rt }
    }

    pub fn wh_db(&self) -> DatabaseConfig {
        DatabaseConfig { url: Secret::new(self.warehouse.url("postgres")), parallelism: 2 }
    }

    pub fn mart_db(&self) -> DatabaseConfig {
        DatabaseConfig { url: Secret::new(self.mart.url("postgres")), parallelism: 2 }
    }

    pub fn put_month(&self, kind: TripKind, month: &str, era: Era, rows: usize) {
        let month: YearMonth = month.parse().unwrap();
        let spec = TripFileSpec::new(kind, month, rows).era(era).row_group_rows(rows.div_ceil(3).max(1));
        write_trip_file_to(&spec, &self.lake_dir.path().join(TripFile::new(kind, month).lake_key())).unwrap();
    }

    pub fn load(&self, kind: TripKind) {
        let mut request = LoadRequest::new(kind);
        request.force = true;
        let report =
            self.rt.block_on(atl_warehouse::load(&self.wh_db(), &self.lake, &request, |_| {})).unwrap();
        assert_eq!(report.failures().count(), 0, "{:?}", report.failures().collect::<Vec<_>>());
    }

    pub fn build(&self, kind: TripKind, months: Option<&str>) -> atl_mart::BuildReport {
        let request = BuildRequest { months: months.map(|m| m.parse().unwrap()), ..BuildRequest::new(kind) };
        let report = self
            .rt
            .block_on(atl_mart::build(&self.wh_db(), &self.mart_db(), &self.lake, &request, |_| {}))
            .unwrap();
        assert_eq!(report.failures().count(), 0, "{:?}", report.failures().collect::<Vec<_>>());
        report
    }

    /// The whole warehouse month staged in `mart.staging_trip` / `staging_for_hire`, as
    /// psql users stage it before running insertion.sql by hand; returns the rows staged.
    pub fn stage_whole_month(&self, kind: TripKind, month: &str) -> u64 {
        self.rt
            .block_on(async {
                let mut wh = atl_warehouse::connect(&self.wh_db()).await?;
                let mut mart = atl_mart::connect(&self.mart_db()).await?;
                atl_mart::transfer::stage_month(&mut wh, &mut mart, kind, month.parse().unwrap()).await
            })
            .unwrap()
    }

    pub fn wh(&self, sql: &str) -> String {
        self.warehouse.psql("postgres", sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub fn mart_sql(&self, sql: &str) -> String {
        self.mart.psql("postgres", sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The samples of `kinds`' rejected rows that are not what a reader expects (` | ` when
    /// all are: groups with too few or too many, then rows amiss), and how many there are:
    /// per service, month and reason, ten or every rejected row if fewer; each the row as it
    /// was staged, with the staging table's columns as keys and its own source row.
    pub fn samples_amiss(&self, kinds: &[&str], staging: &str) -> (String, String) {
        let kinds = kinds.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(", ");
        let of_kinds =
            format!("service_id IN (SELECT service_id FROM mart.dim_service WHERE kind IN ({kinds}))");
        let amiss = self.mart_sql(&format!(
            "SELECT concat((SELECT string_agg(concat_ws('/', service_id, month_id, reason, n, rows), ',') FROM ( \
               SELECT service_id, month_id, reason, coalesce(s.n, 0) AS n, r.rows FROM mart.rejects r \
               FULL JOIN (SELECT service_id, month_id, reason, count(*) AS n FROM mart.reject_samples GROUP BY 1, 2, 3) s \
                 USING (service_id, month_id, reason) \
               WHERE {of_kinds}) x WHERE n IS DISTINCT FROM least(10, rows)), \
             ' | ', (SELECT string_agg(concat_ws('/', service_id, month_id, reason, source_row), ',') \
             FROM mart.reject_samples r WHERE {of_kinds} AND ((row_data->>'source_row')::bigint <> source_row \
               OR (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(row_data) k) \
                  <> (SELECT array_agg(column_name::text ORDER BY column_name::text) FROM information_schema.columns \
                      WHERE table_schema = 'mart' AND table_name = '{staging}'))))"
        ));
        let count = self.mart_sql(&format!("SELECT count(*) FROM mart.reject_samples WHERE {of_kinds}"));
        (amiss, count)
    }

    /// Fingerprint of everything a build writes, but its timings.
    pub fn mart_contents(&self) -> String {
        self.mart_sql(
            "SELECT md5(string_agg(t, '|' ORDER BY t)) FROM ( \
               SELECT f::text AS t FROM mart.fact_trip f \
               UNION ALL SELECT a::text FROM mart.agg_daily a \
               UNION ALL SELECT a::text FROM mart.agg_hour_weekday a \
               UNION ALL SELECT a::text FROM mart.agg_zone_month a \
               UNION ALL SELECT a::text FROM mart.agg_payment_month a \
               UNION ALL SELECT a::text FROM mart.agg_fare_distance a \
               UNION ALL SELECT r::text FROM mart.rejects r \
               UNION ALL SELECT r::text FROM mart.reject_samples r \
               UNION ALL SELECT (service_id, month_id, warehouse_rows, fact_rows, rejected_rows, warehouse_total, \
                                 fact_total, rejected_total)::text FROM mart.build_log \
               UNION ALL SELECT z::text FROM mart.dim_zone z) x",
        )
    }
}
