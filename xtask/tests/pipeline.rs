//! `cargo xtask pipeline` end to end: two generated months served by a local mirror go
//! through every stage into the mart and the dashboard; a second run has nothing to do.

mod common;

use atl_devservices::TlcMirror;
use common::{PipelineRoot, generate, psql, text};

#[test]
fn two_months_flow_to_the_dashboard_and_a_rerun_does_nothing() {
    let mirror_dir = tempfile::tempdir().unwrap();
    generate("yellow", "2024-01..2024-02", 20000, mirror_dir.path());
    let mirror = TlcMirror::start(mirror_dir.path()).unwrap();
    let root = PipelineRoot::new();
    let pipeline = || {
        // 2024-03 is not on the mirror: "not published", not a failure.
        let output = root.pipeline(&["--kind", "yellow", "--months", "2024-01..2024-03"], &mirror, &[]);
        assert!(output.status.success(), "{}", text(&output));
        text(&output)
    };

    let first = pipeline();
    assert!(first.contains("2 fetched, 0 already present, 1 not published, 0 failed"), "{first}");
    assert!(first.contains("2 months loaded (40000 rows)"), "{first}");
    let (mart, warehouse) = (root.mart_url(), root.warehouse_url());
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
