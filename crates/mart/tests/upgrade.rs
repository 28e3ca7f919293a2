//! Upgrading in place: a warehouse and a mart that the last release before migrations
//! (b6d18ef) created and filled, restored from `fixtures/v1` (made by `fixtures/v1/make.sh`
//! with that release's binaries), are run by this release's binaries: both are recognised as
//! version 1 and migrated forward, their months keep every row and cent, and new months load
//! and build beside them.

use std::path::{Path, PathBuf};
use std::process::Command;

use atl_core::{DatabaseConfig, Secret, TripFile, TripKind};
use atl_devservices::PgServer;
use atl_lake::Lake;
use atl_testdata::{Era, TripFileSpec, write_trip_file_to};
use atl_warehouse::LoadRequest;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1")
}

fn restore(pg: &PgServer, dump: &Path) {
    let out = Command::new(pg.cluster().install().bin("psql"))
        .args(pg.cluster().psql_args("postgres"))
        .arg("-f")
        .arg(dump)
        .output()
        .unwrap();
    assert!(out.status.success(), "restoring {}: {}", dump.display(), String::from_utf8_lossy(&out.stderr));
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

struct V1 {
    warehouse: PgServer,
    mart: PgServer,
    lake: tempfile::TempDir,
}

impl V1 {
    fn restore() -> V1 {
        let warehouse = PgServer::temp().expect("a temp PostgreSQL server for the warehouse");
        let mart = PgServer::temp().expect("a temp PostgreSQL server for the mart");
        restore(&warehouse, &fixture().join("warehouse.sql"));
        restore(&mart, &fixture().join("mart.sql"));
        let lake = tempfile::tempdir().unwrap();
        copy_tree(&fixture().join("lake"), lake.path());
        V1 { warehouse, mart, lake }
    }

    /// Runs this release's atl-mart on the two servers and the lake.
    fn mart_cli(&self, args: &[&str]) -> String {
        let lake = format!("file://{}", self.lake.path().display());
        let out = Command::new(env!("CARGO_BIN_EXE_atl-mart"))
            .args(["--warehouse", &self.warehouse.url("postgres"), "--mart", &self.mart.url("postgres")])
            .args(["--lake", &lake])
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(out.status.success(), "atl-mart {args:?}: {}{}", text(&out.stdout), text(&out.stderr));
        text(&out.stdout)
    }

    fn wh_db(&self) -> DatabaseConfig {
        DatabaseConfig { url: Secret::new(self.warehouse.url("postgres")), parallelism: 2 }
    }

    fn lake(&self) -> Lake {
        Lake::open_folder(self.lake.path()).unwrap()
    }

    /// This release's warehouse loader, as `atl-warehouse load --kind yellow` runs it.
    fn load_yellow(&self, rt: &tokio::runtime::Runtime) -> (usize, usize, i64) {
        let report = rt
            .block_on(atl_warehouse::load(
                &self.wh_db(),
                &self.lake(),
                &LoadRequest::new(TripKind::Yellow),
                |_| {},
            ))
            .unwrap();
        assert_eq!(report.failures().count(), 0, "{:?}", report.failures().collect::<Vec<_>>());
        (report.loaded().count(), report.skipped().count(), report.loaded().map(|r| r.rows).sum())
    }

    fn wh(&self, sql: &str) -> String {
        self.warehouse.psql("postgres", sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn mart_sql(&self, sql: &str) -> String {
        self.mart.psql("postgres", sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Rows, money and lineage of every warehouse month (the object of a month is in the load
    /// log, before and after migration 0003 dropped the per-row copy of it).
    fn warehouse_figures(&self) -> String {
        self.wh(
            "SELECT string_agg(format('%s %s %s %s %s', source_month, rows, total, rows_seen, \
                                      (SELECT string_agg(object_key, ',' ORDER BY object_key) FROM raw.load_log l \
                                       WHERE l.month = m.source_month)), ';' ORDER BY source_month) \
             FROM (SELECT source_month, count(*) AS rows, sum(round(total_amount::numeric, 2)) AS total, \
                          count(DISTINCT source_row) AS rows_seen \
                   FROM (SELECT source_month, total_amount, source_row FROM raw.yellow_tripdata \
                         UNION ALL SELECT source_month, total_amount, source_row FROM raw.green_tripdata) t \
                   GROUP BY source_month) m",
        )
    }

    /// Everything the mart holds for `month`, but when and how fast it was built. A fact row
    /// is its columns by name, money in dollars and distance in miles whichever unit the
    /// version stores (migration 0007 moved them to integer cents and hundredths, renamed).
    fn mart_month(&self, month: &str) -> String {
        self.mart_sql(&format!(
            "SELECT md5(string_agg(t, '|' ORDER BY t)) FROM ( \
               SELECT (SELECT string_agg(k || '=' || v, ',' ORDER BY k) FROM ( \
                         SELECT CASE WHEN key ~ '_(cents|hundredths)$' THEN regexp_replace(key, '_(cents|hundredths)$', '') \
                                     ELSE key END AS k, \
                                CASE WHEN key ~ '_(cents|hundredths)$' THEN ((value #>> '{{}}')::numeric * 0.01)::text \
                                     ELSE value #>> '{{}}' END AS v \
                         FROM jsonb_each(to_jsonb(f))) kv) AS t \
               FROM mart.fact_trip f WHERE date_trunc('month', pickup_at) = '{month}-01' \
               UNION ALL SELECT r::text FROM mart.rejects r WHERE month_id = {id} \
               UNION ALL SELECT (service_id, month_id, warehouse_rows, fact_rows, rejected_rows, warehouse_total, \
                                 fact_total, rejected_total)::text FROM mart.build_log WHERE month_id = {id}) x",
            id = month.replace('-', "")
        ))
    }
}

/// Every day of agg_daily summed over whatever else keys it.
const CITY_DAYS: &str = "SELECT string_agg(t, ';' ORDER BY t) FROM ( \
    SELECT format('%s %s %s %s %s %s', service_id, date_id, sum(trips), sum(revenue), sum(card_tip_sum), \
                  sum(airport_trips)) AS t FROM mart.agg_daily GROUP BY service_id, date_id) x";

/// The (service, borough) pairs whose agg_daily trips differ from the fact's pickups there.
const BOROUGHS_AGAINST_FACT: &str = "SELECT count(*) FROM \
    (SELECT service_id, pu_borough_id, sum(trips) AS trips FROM mart.agg_daily GROUP BY 1, 2) a \
    FULL JOIN (SELECT f.service_id, z.borough_id, count(*) AS trips FROM mart.fact_trip f \
               JOIN mart.dim_zone z ON z.zone_id = f.pu_zone_id GROUP BY 1, 2) f \
      ON (a.service_id, a.pu_borough_id) = (f.service_id, f.borough_id) \
    WHERE a.trips IS DISTINCT FROM f.trips";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_v1_warehouse_and_mart_are_upgraded_in_place_and_keep_working() {
    let v1 = V1::restore();
    let figures = v1.warehouse_figures();
    assert_eq!(figures.matches(';').count(), 0, "the fixture holds one month: {figures}");
    let march = v1.mart_month("2023-03");
    let city_days = v1.mart_sql(CITY_DAYS);
    let loads = v1.wh("SELECT string_agg(format('%s %s %s %s', kind, month, rows, finished_at), ';' ORDER BY kind) FROM raw.load_log");

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let migrated = rt.block_on(atl_warehouse::migrate(&v1.wh_db())).unwrap();
    assert!(migrated.recognised_v1, "{migrated}");
    let versions = v1.wh("SELECT string_agg(version::text, ',' ORDER BY version) FROM raw._sqlx_migrations");
    let all: Vec<String> = atl_warehouse::migrate::MIGRATOR.iter().map(|m| m.version.to_string()).collect();
    assert_eq!(versions, all.join(","));
    assert_eq!(v1.wh("SELECT to_regclass('raw.yellow_tripdata_shape') IS NULL"), "t");

    let status = rt.block_on(atl_warehouse::status(&v1.wh_db())).unwrap();
    let months: Vec<String> =
        status.iter().map(|r| format!("{} {} {}", r.kind, r.year_month(), r.rows)).collect();
    assert_eq!(months, ["green 2023-03 1500", "yellow 2023-03 2000"]);
    let mart_status = v1.mart_cli(&["status"]);
    assert!(
        mart_status.contains("yellow 2023-03") && mart_status.contains("green  2023-03"),
        "{mart_status}"
    );
    let all: Vec<String> = atl_mart::schema::MIGRATOR.iter().map(|m| m.version.to_string()).collect();
    assert_eq!(
        v1.mart_sql("SELECT string_agg(version::text, ',' ORDER BY version) FROM mart._sqlx_migrations"),
        all.join(",")
    );

    // Nothing moved: same rows, money and lineage; same mart month; same load log.
    assert_eq!(v1.warehouse_figures(), figures);
    assert_eq!(v1.mart_month("2023-03"), march);
    // Migration 0010 keys the aggregates by pickup borough: the city's days sum the same, and
    // each borough's trips are the fact's pickups in it.
    assert_eq!(v1.mart_sql(CITY_DAYS), city_days);
    assert_eq!(v1.mart_sql(BOROUGHS_AGAINST_FACT), "0");
    assert_ne!(v1.mart_sql("SELECT count(DISTINCT pu_borough_id) FROM mart.agg_daily"), "1");
    assert_eq!(
        v1.wh("SELECT string_agg(format('%s %s %s %s', kind, month, rows, finished_at), ';' ORDER BY kind) FROM raw.load_log"),
        loads
    );
    // The lake was copied here, and a local object's ETag is its inode and mtime: point the
    // load log at the copies, as it points at the objects of a lake upgraded where it is.
    for (kind, month) in [(TripKind::Yellow, "2023-03"), (TripKind::Green, "2023-03")] {
        let key = TripFile::new(kind, month.parse().unwrap()).lake_key();
        let etag = rt.block_on(v1.lake().head(&key)).unwrap().unwrap().e_tag.unwrap();
        v1.wh(&format!("UPDATE raw.load_log SET etag = '{etag}' WHERE object_key = '{key}'"));
    }
    let built_at = "SELECT string_agg(built_at::text, ',' ORDER BY service_id) FROM mart.build_log WHERE month_id = 202303";
    let built_before = v1.mart_sql(built_at);
    assert_eq!(v1.load_yellow(&rt), (0, 1, 0), "the v1 month is loaded already");
    assert_eq!(v1.warehouse_figures(), figures);

    // A new month loads and builds beside the old one, which is not rebuilt.
    let april = TripFile::new(TripKind::Yellow, "2023-04".parse().unwrap());
    let spec = TripFileSpec::new(TripKind::Yellow, april.month, 2_500).era(Era::Y2022);
    write_trip_file_to(&spec, &v1.lake.path().join(april.lake_key())).unwrap();
    assert_eq!(v1.load_yellow(&rt), (1, 1, 2_500));
    assert_eq!(v1.wh("SELECT count(*) FROM raw.yellow_tripdata"), "4500");
    let built = v1.mart_cli(&["build", "--kind", "yellow"]);
    assert!(built.contains("mart: 1 yellow months built, 0 failed"), "{built}");
    assert!(built.contains("yellow 2023-04: 2500 rows"), "{built}");
    assert_eq!(v1.mart_month("2023-03"), march, "the v1 month keeps every row and cent");
    assert_eq!(v1.mart_sql(built_at), built_before, "the v1 months are not rebuilt");
    assert_eq!(v1.mart_sql(BOROUGHS_AGAINST_FACT), "0", "the streamed month's boroughs are its pickups'");
    assert_eq!(
        v1.mart_sql("SELECT count(*) FROM mart.build_log WHERE warehouse_rows <> fact_rows + rejected_rows"),
        "0"
    );
    let audits = rt.block_on(atl_warehouse::audit(&v1.wh_db(), &v1.lake(), TripKind::Yellow, None)).unwrap();
    assert_eq!(audits.len(), 2);
    assert!(
        audits.iter().all(|a| a.mismatches().is_empty()),
        "{:?}",
        audits.iter().map(|a| a.mismatches()).collect::<Vec<_>>()
    );
}
