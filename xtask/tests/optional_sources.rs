//! The monthly run never stalls on an optional source: with the TLC's indicators host and
//! the zone shapes down (503, a refused connection), answered by an HTML page, or with a
//! corrupt shapes file in the lake, the month still goes lake → warehouse → mart →
//! dashboard, the summary names what was not refreshed, and the lake keeps its good copies.

mod common;

use atl_devservices::{Fault, TlcMirror};
use atl_testdata::real;
use common::{PipelineRoot, free_port, generate, psql, text};

const SHAPES: &str = "misc/taxi_zones.zip";
const INDICATORS: &str = "reports/data_reports_monthly.csv";

fn lake_file(root: &PipelineRoot, name: &str) -> Vec<u8> {
    std::fs::read(root.lake().join("reference").join(name)).unwrap()
}

/// The mart's months of yellow, as `month:rows` (fact + rejected).
fn built_months(root: &PipelineRoot) -> String {
    psql(
        &root.mart_url(),
        "SELECT string_agg(month_id || ':' || (fact_rows + rejected_rows), ',' ORDER BY month_id) FROM mart.build_log",
    )
}

#[test]
fn months_reach_the_mart_while_the_indicators_and_shapes_are_down_or_bad() {
    let mirror_dir = tempfile::tempdir().unwrap();
    generate("yellow", "2024-01..2024-03", 3000, mirror_dir.path());
    let mirror = TlcMirror::start(mirror_dir.path()).unwrap();
    let root = PipelineRoot::new();
    // The last good copies: the TLC's own files, unlike the generated ones the mirror holds.
    let reference = root.lake().join("reference");
    std::fs::create_dir_all(&reference).unwrap();
    for name in [real::ZONE_SHAPES, real::INDICATORS] {
        std::fs::copy(real::path(name), reference.join(name)).unwrap();
    }
    let few_retries = ("ATL__SOURCE__RETRIES", "2".to_owned());

    // 1. Down: the shapes answer 503, the indicators' host refuses connections.
    mirror.set_fault(SHAPES, Fault::Status { code: 503, times: 1000 });
    let refused = format!("http://127.0.0.1:{}/{INDICATORS}", free_port());
    let env = [few_retries.clone(), ("ATL__SOURCE__INDICATORS_URL", refused)];
    let output = root.pipeline(&["--kind", "yellow", "--months", "2024-01"], &mirror, &env);
    let out = text(&output);
    assert!(output.status.success(), "{out}");
    assert!(out.contains("zone shapes      NOT REFRESHED    ") && out.contains("HTTP 503"), "{out}");
    assert!(out.contains("TLC indicators   NOT REFRESHED    "), "{out}");
    assert!(out.contains("the lake keeps its copy of "), "{out}");
    assert_eq!(built_months(&root), "202401:3000");
    assert_eq!(lake_file(&root, real::ZONE_SHAPES), std::fs::read(real::path(real::ZONE_SHAPES)).unwrap());
    assert_eq!(lake_file(&root, real::INDICATORS), std::fs::read(real::path(real::INDICATORS)).unwrap());
    // The mart shows the lake's copies: the TLC's 263 shapes and its release of 2024-01.
    assert_eq!(psql(&root.mart_url(), "SELECT count(*) FROM mart.ref_zone_shape"), "263");
    assert_eq!(
        psql(
            &root.mart_url(),
            "SELECT newest_month FROM mart.ref_release WHERE lake_key LIKE '%monthly.csv'"
        ),
        "202401"
    );

    // 2. An HTML page in place of both files (a login or error page served with 200).
    let page = Fault::Body {
        content_type: "text/html".into(),
        body: b"<!DOCTYPE html><html><body>Service unavailable</body></html>".to_vec(),
    };
    mirror.set_fault(SHAPES, page.clone());
    mirror.set_fault(INDICATORS, page);
    let output = root.pipeline(
        &["--kind", "yellow", "--months", "2024-02"],
        &mirror,
        std::slice::from_ref(&few_retries),
    );
    let out = text(&output);
    assert!(output.status.success(), "{out}");
    assert_eq!(out.matches("NOT REFRESHED").count(), 2, "{out}");
    assert!(out.contains("HTML/XML error page"), "{out}");
    assert_eq!(built_months(&root), "202401:3000,202402:3000");
    assert_eq!(lake_file(&root, real::ZONE_SHAPES), std::fs::read(real::path(real::ZONE_SHAPES)).unwrap());
    assert_eq!(lake_file(&root, real::INDICATORS), std::fs::read(real::path(real::INDICATORS)).unwrap());

    // 3. A corrupt shapes file in the lake, and the source still down: the mart keeps the
    //    shapes it had and builds the month.
    std::fs::write(reference.join(real::ZONE_SHAPES), b"PK\x03\x04 cut short").unwrap();
    mirror.set_fault(SHAPES, Fault::Status { code: 503, times: 1000 });
    mirror.clear_fault(INDICATORS);
    let output = root.pipeline(&["--kind", "yellow", "--months", "2024-03"], &mirror, &[few_retries]);
    let out = text(&output);
    assert!(output.status.success(), "{out}");
    assert!(
        out.contains(
            "warning: zone shapes not refreshed: reference/taxi_zones.zip in the lake does not read"
        ),
        "{out}"
    );
    assert_eq!(built_months(&root), "202401:3000,202402:3000,202403:3000");
    assert_eq!(psql(&root.mart_url(), "SELECT count(*) FROM mart.ref_zone_shape"), "263");
    let dashboard = std::fs::read_to_string(root.path().join("reports/dashboard/index.html")).unwrap();
    assert!(dashboard.contains("data-zone="), "the dashboard still draws the zone maps");
}
