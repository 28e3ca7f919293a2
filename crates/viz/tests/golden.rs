//! The pages as they were before the viz crate was cut into layers (issue 29): the dashboard
//! (file and live, filtered, and the error page) and the EDA report, rendered from one
//! fixture mart and one generated warehouse, against the files under `tests/golden/`.
//!
//! Only what depends on the clock is masked (the "generated …" time and the queries'
//! seconds). The comparison is byte for byte; should a page differ only in line breaks
//! between tags (a template crate writes none), the test says so and passes, since a browser
//! lays out `<p>a</p>\n<p>b</p>` and `<p>a</p><p>b</p>` alike; any other difference fails,
//! a blank between two inline tags included.
//! `ATL_VIZ_BLESS=1` rewrites the files (only ever from the code before a refactor).
// The test tells on stderr when a page matched only once line breaks were dropped.
#![allow(clippy::print_stderr)]

mod common;

use std::path::{Path, PathBuf};

use atl_core::{DatabaseConfig, Secret, TripFile, TripKind, YearMonth};
use atl_devservices::PgServer;
use atl_testdata::{Era, TripFileSpec, write_trip_file_to};
use atl_viz::{EdaRequest, Filter, Mart};
use common::MartFixture;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// `text` with every `{start}…{end}` span whose inside is made of `allowed` characters
/// replaced by `{start}<masked>{end}`.
fn mask(text: &str, start: &str, end: &str, allowed: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(start) {
        let after = &rest[at + start.len()..];
        let inner = after.find(end).map(|e| &after[..e]).filter(|i| !i.is_empty() && i.chars().all(&allowed));
        out.push_str(&rest[..at + start.len()]);
        match inner {
            Some(inner) => {
                out.push_str("<masked>");
                rest = &after[inner.len()..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
}

/// The page without what depends on the clock.
fn unclocked(html: &str) -> String {
    let time = |c: char| c.is_ascii_digit() || matches!(c, '-' | ':' | ' ');
    let html = mask(html, "generated ", " UTC", time);
    mask(&html, "(queries ", " s)", |c| c.is_ascii_digit() || matches!(c, '.' | ','))
}

/// Line breaks between tags dropped (with the blanks around them), and whitespace at the
/// ends. A blank between two tags without a line break (`</label> <label>`) is kept: it is
/// a space on the page.
fn without_tag_whitespace(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html.trim();
    while let Some(at) = rest.find('>') {
        out.push_str(&rest[..=at]);
        let after = &rest[at + 1..];
        let text = after.len() - after.trim_start().len();
        let line_break = after[..text].contains('\n');
        rest = if line_break && after[text..].starts_with('<') { &after[text..] } else { after };
    }
    out.push_str(rest);
    out
}

/// Compares `html` with `tests/golden/<name>.html` (or writes it, when blessing).
fn check(name: &str, html: &str, differences: &mut Vec<String>) {
    let html = unclocked(html);
    let path = golden_dir().join(format!("{name}.html"));
    if std::env::var_os("ATL_VIZ_BLESS").is_some() {
        std::fs::write(&path, &html).unwrap();
        return;
    }
    let golden = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (the golden pages are committed)", path.display()));
    if golden == html {
        return;
    }
    let (golden_n, html_n) = (without_tag_whitespace(&golden), without_tag_whitespace(&html));
    if golden_n == html_n {
        eprintln!("{name}: the same page, apart from line breaks between tags");
        return;
    }
    let at = golden_n.bytes().zip(html_n.bytes()).take_while(|(a, b)| a == b).count();
    let from = at.saturating_sub(200);
    let near = |s: &str| s.get(from..(at + 200).min(s.len())).unwrap_or("").to_owned();
    let actual = std::env::temp_dir().join(format!("atl-viz-golden-{name}.html"));
    std::fs::write(&actual, &html).unwrap();
    differences.push(format!(
        "{name} differs at byte {at} (line breaks between tags dropped; the page is in {}):\n  golden: …{}…\n  now:    …{}…",
        actual.display(),
        near(&golden_n),
        near(&html_n)
    ));
}

/// A temp warehouse holding two generated yellow months and a for-hire one.
fn warehouse() -> (PgServer, tempfile::TempDir, DatabaseConfig) {
    let pg = PgServer::temp().expect("a temp PostgreSQL server");
    let lake_dir = tempfile::tempdir().unwrap();
    let lake = atl_lake::Lake::open_folder(lake_dir.path()).unwrap();
    let db = DatabaseConfig { url: Secret::new(pg.url("postgres")), parallelism: 2 };
    let files = [(TripKind::Yellow, "2023-01"), (TripKind::Yellow, "2023-02"), (TripKind::Fhvhv, "2023-06")];
    for (kind, month) in files {
        let month: YearMonth = month.parse().unwrap();
        let spec = TripFileSpec::new(kind, month, 4_000).era(Era::of(month)).row_group_rows(1_500);
        write_trip_file_to(&spec, &lake_dir.path().join(TripFile::new(kind, month).lake_key())).unwrap();
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for kind in [TripKind::Yellow, TripKind::Fhvhv] {
        let report =
            rt.block_on(atl_warehouse::load(&db, &lake, &atl_warehouse::LoadRequest::new(kind), |_| {}));
        assert!(report.unwrap().loaded().count() > 0);
    }
    // A few unknown codes, so that every anomaly row of the page has a figure.
    pg.psql(
        "postgres",
        "UPDATE raw.yellow_tripdata SET vendorid = 3 WHERE source_month = '2023-01-01' AND source_row < 7;
         UPDATE raw.yellow_tripdata SET pulocationid = 0 WHERE source_month = '2023-02-01' AND source_row BETWEEN 20 AND 22;",
    )
    .unwrap();
    (pg, lake_dir, db)
}

#[test]
fn the_pages_are_those_of_before_the_layers() {
    let mart = MartFixture::start();
    for month in ["2023-01", "2023-02", "2023-04"] {
        mart.fill_month(month, 1);
    }
    mart.sql("SELECT public.viz_fixture_fill_for_hire('2023-01-01'), public.viz_fixture_fill_for_hire('2023-02-01')");
    // Names that need escaping, where the page writes names.
    mart.sql(
        "INSERT INTO mart.dim_borough VALUES (8, 'Fort <Lee> & \"Co\"');
         INSERT INTO mart.dim_payment_type VALUES (-1, 'Unknown <&>');
         INSERT INTO mart.agg_payment_month VALUES (2, 202301, -1, 500, 900, 1);",
    );
    let (_warehouse, _lake, warehouse_db) = warehouse();
    let mart_db = DatabaseConfig { url: Secret::new(mart.url()), parallelism: 1 };

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut differences = Vec::new();
    rt.block_on(async {
        let mart = Mart::connect_lazy(&mart_db).unwrap();
        let file = atl_viz::render(&mart, &Filter::default(), atl_viz::PageMode::File).await.unwrap();
        check("dashboard", &file.html, &mut differences);
        let filters = [
            ("live", "service=green,uber&period=2023-01..2023-02&borough=Queens&measure=revenue_per_trip"),
            ("live_unknown_borough", "borough=Atlantis+%3Cb%3E%26%22"),
        ];
        for (name, query) in filters {
            let filter = Filter::from_query(Some(query)).unwrap();
            let (status, html) = atl_viz::serve::live_page(&mart, &filter).await;
            assert_eq!(status, if name == "live_unknown_borough" { 400 } else { 200 }, "{name}");
            check(name, &html, &mut differences);
        }
        let filter = Filter::from_query(Some("period=2023-02&borough=Manhattan&measure=revenue")).unwrap();
        let manhattan = atl_viz::render(&mart, &filter, atl_viz::PageMode::File).await.unwrap();
        check("dashboard_manhattan", &manhattan.html, &mut differences);
        mart.pool().close().await;

        for kind in [TripKind::Yellow, TripKind::Fhvhv] {
            let eda = atl_viz::eda::profile(&warehouse_db, &EdaRequest::new(kind)).await.unwrap();
            let report = atl_viz::eda::render(eda).unwrap();
            check(&format!("eda_{kind}"), &report.html, &mut differences);
        }
    });
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

#[test]
fn the_comparison_sees_a_changed_figure_and_forgives_whitespace() {
    let page = "<p>a</p>\n<div data-value=\"1\">generated 2026-12-05 07:20 UTC (queries 0.25 s)</div>\n";
    assert_eq!(
        unclocked(page),
        "<p>a</p>\n<div data-value=\"1\">generated <masked> UTC (queries <masked> s)</div>\n"
    );
    assert_eq!(without_tag_whitespace(page), without_tag_whitespace(&page.replace(">\n<", "><")));
    assert_ne!(without_tag_whitespace(page), without_tag_whitespace(&page.replace("\"1\"", "\"2\"")));
    // Text around a tag keeps its spaces, and so does a blank between two tags: only line
    // breaks between tags go.
    assert_eq!(without_tag_whitespace("<b>x</b> y <i>z</i>"), "<b>x</b> y <i>z</i>");
    assert_eq!(without_tag_whitespace("<b>x</b> <i>z</i>\n <i>w</i>"), "<b>x</b> <i>z</i><i>w</i>");
}
