//! The for-hire services on the dashboard: Uber and Lyft by name beside the taxis, and the
//! for-hire panels drawing what the mart holds, read from the page Chromium rendered.

mod common;

use common::page::{ElementRef, Html, all, figure, names, one};
use common::{MartFixture, dump_dom, page_errors};

const FOR_HIRE_CHARTS: [&str; 4] = ["market_share", "wait_by_hour", "driver_pay_share", "shared_ride_share"];

#[test]
fn uber_and_lyft_are_drawn_by_name_beside_yellow_and_green() {
    let mart = MartFixture::start();
    mart.fill_month("2023-01", 1);
    mart.fill_month("2023-02", 1);
    mart.sql("SELECT public.viz_fixture_fill_for_hire('2023-01-01'), public.viz_fixture_fill_for_hire('2023-02-01')");
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_atl-viz"))
        .args(["dashboard", "--period", "2023-01..2023-02", "--out"])
        .arg(out.path())
        .env("ATL__MART__URL", mart.url())
        .status()
        .unwrap();
    assert!(status.success());
    let (dom, stderr) = dump_dom(&format!("file://{}", out.path().join("index.html").display()));
    assert!(page_errors(&stderr).is_empty(), "{stderr}");

    let dom = Html::parse_document(&dom);
    let labels = names(figure(&dom, "trips_per_day").expect("trips per day"));
    for name in ["Yellow", "Green", "Uber", "Lyft"] {
        assert!(labels.iter().any(|l| l == name), "trips per day has no {name} in its legend: {labels:?}");
    }
    for name in FOR_HIRE_CHARTS {
        let labels = names(figure(&dom, name).unwrap_or_else(|| panic!("chart {name} missing")));
        let named = |who: &str| labels.iter().any(|l| l == who);
        assert!(named("Uber") && named("Lyft"), "{name}: legend without Uber and Lyft: {labels:?}");
    }
    // Market share: one bar segment per service and month (4 services x 2 months), each
    // month's segments adding up to the whole.
    let share = figure(&dom, "market_share").unwrap();
    assert_eq!(marks(share), 8, "market share segments");
    // Driver pay share: one point per service and month, at the fixture's 72% and 68%.
    let pay = figure(&dom, "driver_pay_share").unwrap();
    assert_eq!(all(pay, "svg circle").len(), 4);
    // Wait by hour: a median and a 90th-percentile line per service, in its colour.
    let wait = figure(&dom, "wait_by_hour").unwrap();
    for colour in ["#222222", "#FF00BF"] {
        let lines = all(wait, &format!("svg polyline[stroke=\"{colour}\" i]"));
        assert_eq!(lines.len(), 2, "wait lines of {colour}");
    }

    // Without for-hire trips the panels are not drawn at all (no empty charts).
    mart.sql("TRUNCATE mart.agg_for_hire_month, mart.agg_wait_hour; DELETE FROM mart.agg_daily WHERE service_id > 2");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_atl-viz"))
        .args(["dashboard", "--period", "2023-01..2023-02", "--out"])
        .arg(out.path().join("taxis"))
        .env("ATL__MART__URL", mart.url())
        .status()
        .unwrap();
    assert!(status.success());
    let html = Html::parse_document(&std::fs::read_to_string(out.path().join("taxis/index.html")).unwrap());
    for name in FOR_HIRE_CHARTS {
        let drawn = one(html.root_element(), &format!("[data-chart=\"{name}\"]"));
        assert!(drawn.is_none(), "{name} drawn without for-hire trips");
    }
}

/// Filled rectangles drawn inside the plot (the bars), not the background at the origin.
fn marks(figure: ElementRef<'_>) -> usize {
    let at_origin = |r: &ElementRef<'_>| r.value().attr("x") == Some("0") && r.value().attr("y") == Some("0");
    all(figure, "svg rect").iter().filter(|r| !at_origin(r)).count()
}
