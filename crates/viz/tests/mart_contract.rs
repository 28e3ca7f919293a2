//! The dashboard's queries against the mart's real schema (every migration of
//! `sql/mart/migrations`, in order), not
//! only against the test fixture: a renamed column fails here, not on the live page.

mod common;

use atl_core::{DatabaseConfig, Secret};
use atl_viz::{Mart, PageMode, VizError};
use common::page::{Html, figure};

#[test]
fn every_dashboard_query_runs_on_the_real_mart_schema() {
    let pg = atl_devservices::PgServer::temp().expect("a temp PostgreSQL server");
    let folder = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../sql/mart/migrations"));
    let mut migrations: Vec<_> = std::fs::read_dir(folder).unwrap().map(|e| e.unwrap().path()).collect();
    migrations.sort();
    for migration in migrations {
        let out = std::process::Command::new(pg.cluster().install().bin("psql"))
            .args(pg.cluster().psql_args("postgres"))
            .arg("-f")
            .arg(&migration)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}: {}", migration.display(), String::from_utf8_lossy(&out.stderr));
    }
    let db = DatabaseConfig { url: Secret::new(pg.url("postgres")), parallelism: 1 };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let mart = Mart::connect_lazy(&db).unwrap();
        // An empty mart: the default period cannot be found, and says so.
        let err = atl_viz::render(&mart, &atl_viz::Filter::default(), PageMode::File).await.unwrap_err();
        assert!(matches!(err, VizError::EmptyMart), "{err}");
        // A given period runs every query; all panels are empty but the page renders.
        let dashboard = atl_viz::render(
            &mart,
            &atl_viz::Filter::from_query(Some("period=2023-01..2023-02")).unwrap(),
            PageMode::File,
        )
        .await
        .unwrap();
        assert_eq!(dashboard.kpis[0].value, Some(0.0));
        assert!(
            figure(&Html::parse_document(&dashboard.html), "trips_per_day").is_some(),
            "no trips per day"
        );
    });
}
