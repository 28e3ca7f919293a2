//! The dashboard on data shaped like real TLC months, read back from the page Chromium
//! renders: months with gaps, one service of two, thin boroughs, both "unknown" payment
//! codes; the zone maps; the TLC's figures beside ours.

mod common;

use std::collections::HashMap;

use common::page::{ElementRef, Html, all, attr, data, figure, names, one, svg_labels, text};
use common::{MartFixture, ServeProcess, dump_dom, page_errors};

/// Every zone `<path>` of a map figure: (zone, trips, class, fill).
fn map_paths(fig: ElementRef<'_>) -> Vec<(i32, i64, String, String)> {
    all(fig, "svg path[data-zone]")
        .into_iter()
        .map(|path| {
            let get = |name: &str| {
                path.value()
                    .attr(name)
                    .unwrap_or_else(|| panic!("{name} missing: {}", path.html()))
                    .to_owned()
            };
            (
                get("data-zone").parse().unwrap(),
                get("data-trips").parse().unwrap(),
                get("data-class"),
                get("fill"),
            )
        })
        .collect()
}

/// The `data-marks` of a chart.
fn marks(dom: &Html, chart: &str) -> String {
    data(figure(dom, chart).unwrap_or_else(|| panic!("no {chart} chart")), "data-marks").unwrap()
}

#[test]
fn months_with_gaps_and_one_service_draw_what_the_mart_holds() {
    let mart = MartFixture::start();
    // Green only, three months with gaps between them, as a user's first real loads are.
    for m in ["2023-01", "2023-03", "2023-07"] {
        mart.fill_month(m, 1);
    }
    for table in [
        "agg_daily",
        "agg_zone_month",
        "agg_hour_weekday",
        "agg_payment_month",
        "agg_fare_distance",
        "rejects",
        "build_log",
        "agg_month_recorded",
    ] {
        mart.sql(&format!("DELETE FROM mart.{table} WHERE service_id = 1"));
    }
    // EWR (zone 1): a handful of trips whose tips exceed their fares.
    mart.sql("UPDATE mart.agg_zone_month SET trips = 3, card_fare_sum = 10, card_tip_sum = 25 WHERE pu_zone_id = 1");
    // Both unknown payment codes: null/unlisted (-1) and the TLC's own 'Unknown' (5).
    mart.sql(
        "INSERT INTO mart.dim_payment_type VALUES (-1, 'Unknown') ON CONFLICT DO NOTHING;
              INSERT INTO mart.agg_payment_month VALUES (2, 202301, -1, 500, 900, 1)",
    );
    let server = ServeProcess::start(&mart.url());
    let (dom, stderr) = dump_dom(&server.url());
    assert!(page_errors(&stderr).is_empty(), "{stderr}");
    let dom = Html::parse_document(&dom);
    let root = dom.root_element();
    assert_eq!(attr(root, "body", "data-period").as_deref(), Some("2023-01..2023-07"));

    // Revenue: one bar per month that has revenue, none across the gaps.
    let bars: i64 = mart.sql("SELECT count(DISTINCT date_id / 100) FROM mart.agg_daily").parse().unwrap();
    assert_eq!(marks(&dom, "revenue_by_month"), bars.to_string());
    let said = text(figure(&dom, "revenue_by_month").unwrap());
    assert!(said.contains("No data in the mart"), "gaps have no legend: {said}");
    // Daily trips: a point per day held, and a line per run of consecutive days, never one
    // across a missing month.
    let days = mart.sql("SELECT count(DISTINCT (service_id, date_id)) FROM mart.agg_daily");
    assert_eq!(marks(&dom, "trips_per_day"), days);
    let fig = figure(&dom, "trips_per_day").unwrap();
    let green_lines = all(fig, "svg polyline[stroke=\"#2E9E5B\" i]").len();
    assert_eq!(green_lines, 3, "one line per month held: {}", fig.html());
    // Rows per month: kept and rejected bars for the three built months.
    assert_eq!(marks(&dom, "rows_by_month"), "6");
    // Legends name what is drawn: green, never yellow.
    let legend = one(root, "header .legend").expect("the header's legend");
    let drawn: Vec<String> = all(legend, "span").into_iter().map(text).collect();
    assert!(drawn.contains(&"Green".to_owned()) && !drawn.contains(&"Yellow".to_owned()), "{drawn:?}");
    for name in ["trips_per_day", "revenue_by_month", "fare_by_distance"] {
        let shown = names(figure(&dom, name).unwrap());
        assert!(!shown.contains(&"Yellow".to_owned()), "{name} names Yellow: {shown:?}");
    }
    // A rate from three trips is left out, and said so.
    let fig = figure(&dom, "tip_rate_by_borough").unwrap();
    let said = text(fig);
    assert!(said.contains("left out, fewer than 100 trips: EWR, 9 trips"), "{said}");
    let labels = svg_labels(fig);
    assert!(labels.contains(&"Manhattan".to_owned()), "{labels:?}");
    assert!(!labels.contains(&"EWR".to_owned()), "EWR drawn: {labels:?}");
    // One unknown payment bar.
    let labels = svg_labels(figure(&dom, "payment_share").unwrap());
    assert_eq!(labels.iter().filter(|l| l.contains("Unknown")).count(), 1, "{labels:?}");
    // Missing months: the list folds, by spans.
    let missing = data(root, "data-missing-months").unwrap();
    assert_eq!(missing.split(',').count(), 4);
    let said = text(root);
    assert!(said.contains("2023-02, 2023-04..2023-06"), "spans missing: {said}");

    // A year's gap folds the list.
    mart.fill_month("2024-09", 1);
    let (dom, _) = dump_dom(&server.url());
    let dom = Html::parse_document(&dom);
    let folded = one(dom.root_element(), "details > summary").map(text).unwrap_or_default();
    assert!(folded.starts_with("17 months missing"), "not folded: {folded:?}");
}

#[test]
fn the_zone_maps_have_a_shape_per_zone_coloured_by_the_marts_counts() {
    let mart = MartFixture::start();
    mart.fill_month("2023-01", 1);
    mart.fill_month("2023-02", 1);
    // Zones 50-55 without a trip; zone 60 with too few for a rate.
    mart.sql(
        "DELETE FROM mart.agg_zone_month WHERE pu_zone_id BETWEEN 50 AND 55;
              UPDATE mart.agg_zone_month SET trips = 5 WHERE pu_zone_id = 60",
    );
    let server = ServeProcess::start(&mart.url());
    let (dom, stderr) = dump_dom(&format!("{}?measure=tip_rate", server.url()));
    assert!(page_errors(&stderr).is_empty(), "{stderr}");
    let dom = Html::parse_document(&dom);

    let shapes: usize = mart.sql("SELECT count(*) FROM mart.ref_zone_shape").parse().unwrap();
    let by_sql: HashMap<i32, i64> = mart
        .sql("SELECT pu_zone_id, sum(trips) FROM mart.agg_zone_month WHERE month_id BETWEEN 202301 AND 202302 GROUP BY 1")
        .lines()
        .map(|l| {
            let (z, t) = l.split_once('|').unwrap();
            (z.parse().unwrap(), t.parse().unwrap())
        })
        .collect();
    let fig = figure(&dom, "zone_map_pickups").expect("the pickups map");
    let paths = map_paths(fig);
    assert_eq!(paths.len(), shapes, "one shape per shapefile record");
    let mut classes: HashMap<String, String> = HashMap::new();
    for (zone, trips, class, fill) in &paths {
        assert_eq!(*trips, by_sql.get(zone).copied().unwrap_or(0), "zone {zone}");
        if *trips == 0 {
            assert_eq!(class, "none", "zone {zone} has no trips");
            assert!(fill.starts_with("url(#"), "zone {zone}: no trips must be hatched, not a colour");
        } else {
            assert_ne!(class, "none", "zone {zone} has {trips} trips");
            // One colour per class.
            assert_eq!(classes.entry(class.clone()).or_insert_with(|| fill.clone()), fill, "class {class}");
        }
    }
    assert!(classes.len() >= 4, "too few colour classes: {classes:?}");
    // Colours follow the counts: every zone of a darker class has more trips.
    let max_of = |k: usize| paths.iter().filter(|p| p.2 == k.to_string()).map(|p| p.1).max();
    let min_of = |k: usize| paths.iter().filter(|p| p.2 == k.to_string()).map(|p| p.1).min();
    for k in 0..5 {
        if let (Some(hi), Some(lo)) = (max_of(k), min_of(k + 1)) {
            assert!(hi <= lo, "class {k} reaches {hi} trips, class {} starts at {lo}", k + 1);
        }
    }
    // The legend: a swatch per class and one for zones without trips.
    let legend = one(fig, ".legend").expect("the map's legend");
    assert_eq!(all(legend, ".swatch").len(), classes.len() + 1, "{}", legend.html());
    assert!(text(legend).contains("No trips"), "{}", legend.html());
    // Zone 2 is two islands, drawn as one shape with two rings.
    let two = paths.iter().find(|p| p.0 == 2).unwrap();
    assert!(two.1 > 0);
    let rings = attr(fig, "svg path[data-zone=\"2\"]", "d").expect("zone 2's path");
    assert_eq!(rings.matches('M').count(), 2);

    // The measure map: the thin zone is set apart, not coloured.
    let fig = figure(&dom, "zone_map_measure").expect("the measure map");
    let paths = map_paths(fig);
    assert_eq!(paths.len(), shapes);
    assert_eq!(paths.iter().find(|p| p.0 == 60).unwrap().2, "few");
    let said = text(fig);
    assert!(said.contains("Fewer than 100 trips"), "{said}");

    // A borough: zones elsewhere are drawn, apart.
    let (dom, _) = dump_dom(&format!("{}?borough=Queens&measure=revenue", server.url()));
    let dom = Html::parse_document(&dom);
    let paths = map_paths(figure(&dom, "zone_map_pickups").unwrap());
    assert_eq!(paths.len(), shapes);
    let outside = paths.iter().filter(|p| p.2 == "outside").count();
    let queens: usize =
        mart.sql("SELECT count(*) FROM mart.ref_zone_shape WHERE borough = 'Queens'").parse().unwrap();
    assert_eq!(outside, shapes - queens);
}

#[test]
fn the_tlc_figures_stand_beside_ours_and_deviations_are_flagged() {
    let mart = MartFixture::start();
    mart.fill_month("2023-01", 1);
    mart.fill_month("2023-02", 1);
    let server = ServeProcess::start(&mart.url());
    let (dom, stderr) = dump_dom(&server.url());
    assert!(page_errors(&stderr).is_empty(), "{stderr}");
    let dom = Html::parse_document(&dom);
    let tlc = one(dom.root_element(), "section#tlc").expect("the TLC section");
    let want = mart.sql(
        "SELECT i.month_id, i.licence_class, i.trips_per_day, r.trips::float8 / extract(day FROM (to_date(i.month_id::text, 'YYYYMM') + interval '1 month' - interval '1 day'))
         FROM mart.ref_tlc_indicator i JOIN mart.ref_licence_class l USING (licence_class)
         JOIN mart.dim_service s ON s.name = l.service_name JOIN mart.agg_month_recorded r ON r.service_id = s.service_id AND r.month_id = i.month_id
         ORDER BY 1, 2",
    );
    assert_eq!(want.lines().count(), 4, "{want}");
    for line in want.lines() {
        let f: Vec<&str> = line.split('|').collect();
        let month = format!("{}-{}", &f[0][..4], &f[0][4..]);
        let row = one(tlc, &format!("tr[data-month=\"{month}\"][data-class=\"{}\"]", f[1]))
            .unwrap_or_else(|| panic!("no row for {month} {}: {}", f[1], tlc.html()));
        let theirs: f64 = data(row, "data-tlc-trips").unwrap().parse().unwrap();
        let ours: f64 = data(row, "data-our-trips").unwrap().parse().unwrap();
        assert_eq!(theirs, f[2].parse::<f64>().unwrap());
        assert!((ours - f[3].parse::<f64>().unwrap()).abs() < 1e-6, "{month} {}: {ours} vs {}", f[1], f[3]);
        let deviation = (ours - theirs).abs() / theirs;
        let flagged = data(row, "data-flagged").unwrap() == "true";
        assert_eq!(flagged, deviation > 0.01, "{month} {}: deviation {deviation}", f[1]);
        if f[1] == "Yellow" {
            assert!(deviation < 0.005, "yellow {month} on the TLC's definition is {deviation} off");
        }
    }
    assert!(text(tlc).contains('⚠'), "no flag shown");
    assert_eq!(marks(&dom, "tlc_trips_per_day"), "12", "3 bars for 4 rows");
}
