//! The dashboard end to end: a mart of generated aggregates, `atl-viz serve`, headless
//! Chromium. The page has no script at all, so it cannot log a script error; Chromium's
//! log is still checked for console errors.

mod common;

use common::page::{self, Html, all, attr, data, http_get, one, svg_labels, text};
use common::{MartFixture, ServeProcess, dump_dom, page_errors, screenshot};

const CHARTS: [&str; 9] = [
    "trips_per_day",
    "revenue_by_month",
    "hour_weekday",
    "top_zones",
    "payment_share",
    "tip_rate_by_borough",
    "fare_by_distance",
    "rows_by_month",
    "rejects_by_reason",
];

const KPIS: [&str; 7] =
    ["trips", "revenue", "avg_fare", "tip_rate", "avg_duration", "avg_speed", "airport_share"];

/// The KPIs computed by hand-written SQL over the whole mart, in `KPIS` order.
fn kpis_by_sql(mart: &MartFixture) -> Vec<f64> {
    let row = mart.sql(
        "SELECT sum(trips), sum(revenue)::float8,
                (sum(fare_sum) / sum(trips))::float8,
                (sum(card_tip_sum) / sum(card_fare_sum))::float8,
                (sum(duration_sec_sum)::numeric / sum(trips))::float8,
                (sum(distance_sum) / (sum(duration_sec_sum) / 3600.0))::float8,
                (sum(airport_trips)::numeric / sum(trips))::float8
         FROM mart.agg_daily",
    );
    row.split('|').map(|v| v.parse().unwrap_or_else(|_| panic!("{row}"))).collect()
}

fn assert_dashboard(dom: &str, stderr: &str, mart: &MartFixture, period: &str) {
    let html = Html::parse_document(dom);
    let root = html.root_element();
    assert!(one(root, "[data-error]").is_none(), "the page reports an error:\n{dom}");
    assert_eq!(attr(root, "body", "data-period").as_deref(), Some(period));
    for name in CHARTS {
        let fig = page::figure(&html, name).unwrap_or_else(|| panic!("chart {name} missing"));
        assert!(one(fig, &format!("#chart-{name}")).is_some(), "{name} has no id");
        assert!(one(fig, "svg").is_some(), "chart {name} has no SVG");
        // The white background is one rect; data marks come on top of it.
        let shapes = all(fig, "svg rect, svg polyline, svg path, svg circle").len();
        assert!(shapes >= 2, "chart {name} is empty: {}", fig.html());
        let marks: usize = data(fig, "data-marks").unwrap().parse().unwrap();
        assert!(marks > 0, "chart {name} drew no data");
    }
    let expected = kpis_by_sql(mart);
    for (key, want) in KPIS.iter().zip(&expected) {
        let got: f64 = attr(root, &format!("[data-kpi={key}]"), "data-value")
            .unwrap_or_else(|| panic!("KPI {key} missing"))
            .parse()
            .unwrap();
        assert!((got - want).abs() <= want.abs() * 1e-12, "KPI {key}: page {got}, SQL {want}");
    }
    let errors = page_errors(stderr);
    assert!(errors.is_empty(), "the page logged errors: {errors:?}");
}

#[test]
fn the_live_dashboard_shows_the_mart_and_follows_it() {
    let mart = MartFixture::start();
    mart.fill_month("2023-01", 1);
    mart.fill_month("2023-02", 1);

    // The live server reads the mart through a role that can only SELECT from schema mart.
    let granted = std::process::Command::new(env!("CARGO_BIN_EXE_atl-viz"))
        .args(["grant-readonly", "--role", "atl_viz"])
        .env("ATL__MART__URL", mart.url())
        .env("ATL_VIZ_PASSWORD", "viz-pw")
        .status()
        .unwrap();
    assert!(granted.success());
    let privileges = mart.sql(
        "SELECT has_table_privilege('atl_viz', 'mart.agg_daily', 'SELECT'),
                has_table_privilege('atl_viz', 'mart.agg_daily', 'INSERT'),
                has_schema_privilege('atl_viz', 'mart', 'CREATE')",
    );
    assert_eq!(privileges, "t|f|f");
    let readonly_url = format!("postgres://atl_viz:viz-pw@127.0.0.1:{}/postgres", mart.pg.port());
    let mut server = ServeProcess::start(&readonly_url);

    let (dom, stderr) = dump_dom(&server.url());
    assert_dashboard(&dom, &stderr, &mart, "2023-01..2023-02");
    let html = Html::parse_document(&dom);
    let said = text(html.root_element());
    assert!(said.contains("Months missing between the first and last build: none"), "{said}");
    let trips = |html: &Html| -> f64 {
        attr(html.root_element(), "[data-kpi=trips]", "data-value").expect("the trips tile").parse().unwrap()
    };
    let trips_before = trips(&html);

    // A month lands (and one is skipped, to be reported missing): the next load shows it.
    mart.fill_month("2023-04", 1);
    let (dom, stderr) = dump_dom(&server.url());
    assert_dashboard(&dom, &stderr, &mart, "2023-01..2023-04");
    let html = Html::parse_document(&dom);
    let trips_after = trips(&html);
    assert!(trips_after > trips_before, "trips {trips_before} → {trips_after}");
    let months = svg_labels(page::figure(&html, "revenue_by_month").unwrap());
    assert!(months.iter().any(|l| l.contains("2023-04")), "April missing from revenue by month: {months:?}");
    assert_eq!(data(html.root_element(), "data-missing-months").as_deref(), Some("2023-03"));

    // An explicit period, and the previous period of equal length in the KPI change.
    let (status, body) = http_get(&server.addr, "/?period=2023-02");
    assert_eq!(status, 200);
    let html = Html::parse_document(&body);
    assert_eq!(attr(html.root_element(), "body", "data-period").as_deref(), Some("2023-02"));
    let changes: Vec<String> = all(html.root_element(), ".kpi [data-change]").into_iter().map(text).collect();
    assert_eq!(changes.len(), KPIS.len(), "a change per tile: {changes:?}");
    assert!(changes.iter().all(|t| t.ends_with(" vs 2023-01")), "not against January: {changes:?}");

    // A screenshot renders (the README's come from real TLC months: docs/screenshots/README.md).
    let shots = tempfile::tempdir().unwrap();
    let shot = shots.path().join("dashboard.png");
    let stderr = screenshot(&format!("{}?period=2023-02", server.url()), &shot, 1400, 2500);
    assert!(page_errors(&stderr).is_empty(), "{stderr}");
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000, "the screenshot is suspiciously small");
    assert!(server.is_running());
}

#[test]
fn an_unreachable_mart_is_reported_and_the_server_keeps_running() {
    // Nothing listens on this port.
    let url = format!("postgres://atl:secret-pw@127.0.0.1:{}/mart", common::free_port());
    let mut server = ServeProcess::start(&url);
    for _ in 0..2 {
        let (status, body) = http_get(&server.addr, "/");
        assert_eq!(status, 503, "{body}");
        let html = Html::parse_document(&body);
        let error = one(html.root_element(), "[data-error]").expect("an error element");
        assert_eq!(error.value().attr("data-error"), Some("unreachable"), "{body}");
        assert!(text(error).contains("unreachable"), "{body}");
        // Raw bytes: a leak may hide in an attribute or a comment.
        assert!(!body.contains("secret-pw"), "the password leaked: {body}");
    }
    assert_eq!(http_get(&server.addr, "/healthz").0, 503);
    assert_eq!(http_get(&server.addr, "/nope").0, 404);
    assert!(server.is_running());
}

/// `charts/<name>.png` is the chart's SVG at 2x below a band with its title: it decodes,
/// shows more than its background, has ink in the title band, and has the labels drawn
/// (the SVG rendered without its `<text>` differs from the PNG's chart area).
fn assert_png_export(out: &std::path::Path, name: &str) {
    use atl_viz::png::{SCALE, svg_to_png};
    use resvg::tiny_skia::Pixmap;
    let svg = std::fs::read_to_string(out.join("charts").join(format!("{name}.svg"))).unwrap();
    let png = std::fs::read(out.join("charts").join(format!("{name}.png")))
        .unwrap_or_else(|e| panic!("{name}.png: {e}"));
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}.png is not a PNG");
    let pixmap = Pixmap::decode_png(&png).unwrap_or_else(|e| panic!("{name}.png does not decode: {e}"));
    let parsed = Html::parse_fragment(&svg);
    let size = |dimension: &str| -> u32 {
        let value = attr(parsed.root_element(), "svg", dimension);
        value.unwrap_or_else(|| panic!("{name}.svg has no {dimension}")).parse().unwrap()
    };
    let (width, height) = (size("width") * SCALE as u32, size("height") * SCALE as u32);
    assert_eq!(pixmap.width(), width, "{name}.png is not its SVG at {SCALE}x");
    assert!(pixmap.height() > height, "{name}.png has no title band");
    let band = (pixmap.height() - height) as usize * width as usize;
    let (title, chart) = pixmap.pixels().split_at(band);
    let background = pixmap.pixels()[0];
    let ink = |pixels: &[_]| pixels.iter().filter(|p| **p != background).count();
    assert!(ink(title) > 300, "{name}.png has no title drawn");
    assert!(ink(chart) > 1000, "{name}.png has a blank chart");

    let bare_svg = strip_text(&svg);
    assert!(bare_svg.len() < svg.len(), "{name}.svg has no text");
    let bare = Pixmap::decode_png(&svg_to_png(name, &bare_svg, SCALE).unwrap()).unwrap();
    let text_pixels = chart.iter().zip(bare.pixels()).filter(|(a, b)| a != b).count();
    assert!(text_pixels > 500, "{name}.png has no text drawn ({text_pixels} pixels differ without it)");
}

/// `svg` without its `<text …>…</text>` elements.
fn strip_text(svg: &str) -> String {
    let mut out = String::with_capacity(svg.len());
    let mut rest = svg;
    while let Some(start) = rest.find("<text") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("</text>").expect("closed <text>") + start + "</text>".len();
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_dashboard_command_writes_a_self_contained_page() {
    let mart = MartFixture::start();
    mart.fill_month("2023-01", 1);
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_atl-viz"))
        .args(["dashboard", "--period", "2023-01", "--out"])
        .arg(out.path())
        .env("ATL__MART__URL", mart.url())
        .status()
        .unwrap();
    assert!(status.success());
    let html = Html::parse_document(&std::fs::read_to_string(out.path().join("index.html")).unwrap());
    let fetched: Vec<String> =
        all(html.root_element(), "script, link, [src]").iter().map(|e| e.html()).collect();
    assert!(fetched.is_empty(), "not self-contained: {fetched:?}");
    // The charts, the two zone maps and the TLC comparison.
    assert_eq!(all(html.root_element(), "svg").len(), CHARTS.len() + 3);
    for name in CHARTS {
        assert!(out.path().join("charts").join(format!("{name}.svg")).is_file(), "{name}.svg");
        assert_png_export(out.path(), name);
    }
    for name in ["zone_map_pickups", "zone_map_measure", "tlc_trips_per_day"] {
        let png = std::fs::read(out.path().join("charts").join(format!("{name}.png"))).unwrap();
        let pixmap = resvg::tiny_skia::Pixmap::decode_png(&png).unwrap_or_else(|e| panic!("{name}.png: {e}"));
        assert!(pixmap.width() >= 1320, "{name}.png is {} px wide", pixmap.width());
    }
    // An empty mart is an error with a message, not an empty page.
    let empty = MartFixture { pg: atl_devservices::PgServer::temp().unwrap() };
    empty.sql(common::FIXTURE_SQL);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_atl-viz"))
        .args(["dashboard", "--out"])
        .arg(out.path().join("empty"))
        .env("ATL__MART__URL", empty.url())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no aggregates"), "{output:?}");
}

/// The page says which copy of the optional reference files it shows, and what is missing
/// when there is none; a high-volume licence the mart knows no company for is named in the
/// data-quality section (its trips are kept).
#[test]
fn the_page_names_its_reference_releases_and_unnamed_licences() {
    let mart = MartFixture::start();
    mart.fill_month("2024-01", 1);
    mart.sql("INSERT INTO mart.dim_service VALUES (100, 'HV0099', 'HV0099')");
    let server = ServeProcess::start(&mart.url());
    let release = |dom: &str, key: &str| {
        let html = Html::parse_document(dom);
        let p = one(html.root_element(), &format!("[data-release={key}]"));
        text(p.unwrap_or_else(|| panic!("no {key} release: {dom}")))
    };
    let (dom, _) = dump_dom(&server.url());
    assert_eq!(
        release(&dom, "indicators"),
        "The TLC's indicators: the release covering up to 2024-01, fetched on 2026-11-02."
    );
    assert_eq!(release(&dom, "shapes"), "Zone shapes: the copy fetched on 2026-11-02.");
    let unnamed = data(Html::parse_document(&dom).root_element(), "data-unnamed-licences");
    assert_eq!(unnamed.as_deref(), Some("HV0099"));

    mart.sql("DELETE FROM mart.ref_release");
    let (dom, _) = dump_dom(&server.url());
    let missing = release(&dom, "indicators");
    assert!(missing.starts_with("The mart records no TLC indicators: atl-ingest --indicators"), "{missing}");
    let missing = release(&dom, "shapes");
    assert!(missing.starts_with("The mart records no zone shapes: atl-ingest --zones"), "{missing}");
}
