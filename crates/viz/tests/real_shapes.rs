//! The dashboard on data shaped like real TLC months, read back from the page Chromium
//! renders: months with gaps, one service of two, thin boroughs, both "unknown" payment
//! codes; the zone maps; the TLC's figures beside ours.

mod common;

use std::collections::HashMap;

use common::{MartFixture, ServeProcess, attr_of, dump_dom, figure, page_errors};

/// Every `<path …>` of a map figure: (zone, trips, class, fill).
fn map_paths(fig: &str) -> Vec<(i32, i64, String, String)> {
    fig.match_indices("<path ")
        .filter_map(|(at, _)| {
            let tag = &fig[at..=at + fig[at..].find('>')?];
            let zone = attr_of(tag, "data-zone", "data-zone")?.parse().ok()?;
            Some((
                zone,
                attr_of(tag, "data-trips", "data-trips")?.parse().ok()?,
                attr_of(tag, "data-class", "data-class")?,
                attr_of(tag, "fill=", "fill")?,
            ))
        })
        .collect()
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
    assert_eq!(attr_of(&dom, "<body", "data-period").as_deref(), Some("2023-01..2023-07"));

    // Revenue: one bar per month that has revenue, none across the gaps.
    let bars: i64 = mart.sql("SELECT count(DISTINCT date_id / 100) FROM mart.agg_daily").parse().unwrap();
    let fig = figure(&dom, "revenue_by_month").unwrap();
    assert_eq!(attr_of(fig, "data-marks", "data-marks").unwrap(), bars.to_string());
    assert!(fig.contains("No data in the mart"), "gaps have no legend: {fig}");
    // Daily trips: a point per day held, and a line per run of consecutive days, never one
    // across a missing month.
    let days = mart.sql("SELECT count(DISTINCT (service_id, date_id)) FROM mart.agg_daily");
    let fig = figure(&dom, "trips_per_day").unwrap();
    assert_eq!(attr_of(fig, "data-marks", "data-marks").unwrap(), days);
    let green_lines = fig.matches("<polyline").filter(|_| true).count()
        - fig
            .match_indices("<polyline")
            .filter(|(at, _)| !fig[*at..at + fig[*at..].find('>').unwrap()].contains("#2E9E5B"))
            .count();
    assert_eq!(green_lines, 3, "one line per month held: {fig}");
    // Rows per month: kept and rejected bars for the three built months.
    assert_eq!(attr_of(figure(&dom, "rows_by_month").unwrap(), "data-marks", "data-marks").unwrap(), "6");
    // Legends name what is drawn: green, never yellow.
    let header = &dom[dom.find("<header").unwrap()..dom.find("</header>").unwrap()];
    let legend = &header[header.find("class=\"legend\"").unwrap()..];
    let legend = &legend[..legend.find("</div>").unwrap()];
    assert!(legend.contains(">Green<") && !legend.contains(">Yellow<"), "{legend}");
    for name in ["trips_per_day", "revenue_by_month", "fare_by_distance"] {
        assert!(!figure(&dom, name).unwrap().contains(">Yellow<"), "{name} names Yellow");
    }
    // A rate from three trips is left out, and said so.
    let fig = figure(&dom, "tip_rate_by_borough").unwrap();
    assert!(fig.contains("left out, fewer than 100 trips: EWR, 9 trips"), "{fig}");
    let labels = common::svg_labels(fig);
    assert!(labels.contains(&"Manhattan".to_owned()), "{labels:?}");
    assert!(!labels.contains(&"EWR".to_owned()), "EWR drawn: {labels:?}");
    // One unknown payment bar.
    let labels = common::svg_labels(figure(&dom, "payment_share").unwrap());
    assert_eq!(labels.iter().filter(|l| l.contains("Unknown")).count(), 1, "{labels:?}");
    // Missing months: the list folds, by spans.
    let missing = attr_of(&dom, "data-missing-months", "data-missing-months").unwrap();
    assert_eq!(missing.split(',').count(), 4);
    assert!(dom.contains("2023-02, 2023-04..2023-06"), "spans missing: {dom}");

    // A year's gap folds the list.
    mart.fill_month("2024-09", 1);
    let (dom, _) = dump_dom(&server.url());
    assert!(dom.contains("<details><summary>17 months missing"), "not folded");
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
    let legend = &fig[fig.find("class=\"legend\"").unwrap()..fig.find("<svg").unwrap()];
    assert_eq!(legend.matches("class=\"swatch\"").count(), classes.len() + 1, "{legend}");
    assert!(legend.contains("No trips"), "{legend}");
    // Zone 2 is two islands, drawn as one shape with two rings.
    let two = paths.iter().find(|p| p.0 == 2).unwrap();
    assert!(two.1 > 0);
    let tag = &fig[fig.find("data-zone=\"2\"").map(|at| fig[..at].rfind("<path").unwrap()).unwrap()..];
    assert_eq!(tag[..tag.find('>').unwrap()].matches('M').count(), 2);

    // The measure map: the thin zone is set apart, not coloured.
    let fig = figure(&dom, "zone_map_measure").expect("the measure map");
    let paths = map_paths(fig);
    assert_eq!(paths.len(), shapes);
    assert_eq!(paths.iter().find(|p| p.0 == 60).unwrap().2, "few");
    assert!(fig.contains("Fewer than 100 trips"), "{fig}");

    // A borough: zones elsewhere are drawn, apart.
    let (dom, _) = dump_dom(&format!("{}?borough=Queens&measure=revenue", server.url()));
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
    let tlc = &dom[dom.find("<section id=\"tlc\"").expect("the TLC section")..];
    let tlc = &tlc[..tlc.find("</section>").unwrap()];
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
        let row = tlc
            .find(&format!("data-month=\"{month}\" data-class=\"{}\"", f[1]))
            .map(|at| &tlc[tlc[..at].rfind("<tr").unwrap()..])
            .unwrap_or_else(|| panic!("no row for {month} {}: {tlc}", f[1]));
        let theirs: f64 = attr_of(row, "data-tlc-trips", "data-tlc-trips").unwrap().parse().unwrap();
        let ours: f64 = attr_of(row, "data-our-trips", "data-our-trips").unwrap().parse().unwrap();
        assert_eq!(theirs, f[2].parse::<f64>().unwrap());
        assert!((ours - f[3].parse::<f64>().unwrap()).abs() < 1e-6, "{month} {}: {ours} vs {}", f[1], f[3]);
        let deviation = (ours - theirs).abs() / theirs;
        let flagged = attr_of(row, "data-flagged", "data-flagged").unwrap() == "true";
        assert_eq!(flagged, deviation > 0.01, "{month} {}: deviation {deviation}", f[1]);
        if f[1] == "Yellow" {
            assert!(deviation < 0.005, "yellow {month} on the TLC's definition is {deviation} off");
        }
    }
    assert!(tlc.contains("⚠"), "no flag shown");
    let fig = figure(&dom, "tlc_trips_per_day").expect("the comparison chart");
    assert_eq!(attr_of(fig, "data-marks", "data-marks").unwrap(), "12", "3 bars for 4 rows");
}
