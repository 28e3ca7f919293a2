//! `cargo xtask pipeline` end to end: two generated months served by a local mirror go
//! through every stage into the mart and the dashboard; a second run has nothing to do.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

use atl_devservices::{PgCluster, PgInstall, TlcMirror};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

fn text(output: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn psql(url: &str, sql: &str) -> String {
    let output =
        Command::new(PgInstall::find().unwrap().bin("psql")).args([url, "-XAtqc", sql]).output().unwrap();
    assert!(output.status.success(), "{sql}: {}", text(&output));
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Stops the pipeline's servers even when an assertion fails.
struct Servers(Vec<PgCluster>);

impl Drop for Servers {
    fn drop(&mut self) {
        for cluster in &self.0 {
            let _ = cluster.stop();
        }
    }
}

#[test]
fn two_months_flow_to_the_dashboard_and_a_rerun_does_nothing() {
    let mirror_dir = tempfile::tempdir().unwrap();
    let generate = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(workspace())
        .args(["run", "-q", "-p", "atl-testdata", "--example", "generate", "--"])
        .args(["--kind", "yellow", "--months", "2024-01..2024-02", "--rows", "20000", "--out"])
        .arg(mirror_dir.path())
        .output()
        .unwrap();
    assert!(generate.status.success(), "{}", text(&generate));
    let mirror = TlcMirror::start(mirror_dir.path()).unwrap();

    let root = tempfile::tempdir().unwrap();
    let (warehouse_port, mart_port) = (free_port(), free_port());
    let _servers = Servers(vec![
        PgCluster::new(root.path().join(".atl/pg/warehouse"), warehouse_port).unwrap(),
        PgCluster::new(root.path().join(".atl/pg/mart"), mart_port).unwrap(),
    ]);
    let pipeline = || {
        let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["pipeline", "--debug", "--kind", "yellow", "--months", "2024-01..2024-03"])
            .arg("--root")
            .arg(root.path())
            .args(["--warehouse-port", &warehouse_port.to_string(), "--mart-port", &mart_port.to_string()])
            .env("ATL__SOURCE__BASE_URL", mirror.base_url())
            // The mirror has no indicators file: a 404, "not published", not a failure.
            .env(
                "ATL__SOURCE__INDICATORS_URL",
                format!("{}/reports/data_reports_monthly.csv", mirror.base_url()),
            )
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", text(&output));
        text(&output)
    };

    let first = pipeline();
    assert!(first.contains("2 fetched, 0 already present, 1 not published, 0 failed"), "{first}");
    assert!(first.contains("2 months loaded (40000 rows)"), "{first}");
    let mart = format!("postgres://atl:atl@127.0.0.1:{mart_port}/mart");
    let warehouse = format!("postgres://atl:atl@127.0.0.1:{warehouse_port}/warehouse");
    assert_eq!(psql(&warehouse, "SELECT count(*) FROM raw.yellow_tripdata"), "40000");
    assert_eq!(
        psql(
            &mart,
            "SELECT string_agg(month_id || ':' || (fact_rows + rejected_rows), ',' ORDER BY month_id) FROM mart.build_log"
        ),
        "202401:20000,202402:20000"
    );
    let fact_rows = psql(&mart, "SELECT count(*) FROM mart.fact_trip");
    let page = std::fs::read_to_string(root.path().join("reports/dashboard/index.html")).unwrap();
    assert!(
        page.contains(&format!("data-kpi=\"trips\" data-value=\"{fact_rows}\"")),
        "the dashboard's trips should be the fact's {fact_rows} rows"
    );

    let second = pipeline();
    assert!(second.contains("0 fetched, 2 already present, 1 not published, 0 failed"), "{second}");
    assert!(second.contains("0 months loaded (0 rows), 2 already loaded"), "{second}");
    assert!(
        second.contains("mart: 0 yellow months built") || second.contains("nothing to build"),
        "{second}"
    );
    assert_eq!(psql(&warehouse, "SELECT count(*) FROM raw.yellow_tripdata"), "40000");
    assert_eq!(psql(&mart, "SELECT count(*) FROM mart.fact_trip"), fact_rows);
}
