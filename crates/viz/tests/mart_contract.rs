//! The dashboard's queries against the mart's real schema (`sql/mart/creation.sql`, which
//! runs every migration of `sql/mart/migrations` the way a psql user does), not
//! only against the test fixture: a renamed column fails here, not on the live page.

use atl_core::{DatabaseConfig, Secret};
use atl_viz::{Mart, PageMode, VizError};

#[test]
fn every_dashboard_query_runs_on_the_real_mart_schema() {
    let pg = atl_devservices::PgServer::temp().expect("a temp PostgreSQL server");
    let creation = concat!(env!("CARGO_MANIFEST_DIR"), "/../../sql/mart/creation.sql");
    let out = std::process::Command::new(pg.cluster().install().bin("psql"))
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &pg.url("postgres"), "-f", creation])
        .output()
        .unwrap();
    assert!(out.status.success(), "sql/mart/creation.sql: {}", String::from_utf8_lossy(&out.stderr));
    let db = DatabaseConfig { url: Secret::new(pg.url("postgres")), parallelism: 1 };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let mart = Mart::connect_lazy(&db).unwrap();
        // An empty mart: the default period cannot be found, and says so.
        let err = atl_viz::render(&mart, None, PageMode::File).await.unwrap_err();
        assert!(matches!(err, VizError::EmptyMart), "{err}");
        // A given period runs every query; all panels are empty but the page renders.
        let dashboard =
            atl_viz::render(&mart, Some("2023-01..2023-02".parse().unwrap()), PageMode::File).await.unwrap();
        assert_eq!(dashboard.kpis[0].value, Some(0.0));
        assert!(dashboard.html.contains("data-chart=\"trips_per_day\""));
    });
}
