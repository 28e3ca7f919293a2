//! The market-share view (issue 27, item 2) and the page's wording with the for-hire half in
//! it (item 5), read from what Chromium rendered: each side's share of the pickups per zone
//! (the map) and per borough (the table) equals the fixture's trips, every zone's and
//! borough's shares add up to 100 %, the period and service filters are followed and a
//! chosen borough is marked; the title says "trips" with for-hire services shown; the
//! panels only taxis fill say so; and no KPI tile's text leaves its box on a 1400-px page.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::page::{ElementRef, Html, all, figure, http_get, one, text};
use common::{MartFixture, ServeProcess, dump_dom, dump_dom_at, page_errors};

/// Two months of yellow, green, Uber and Lyft, the for-hire pickups by zone with the other
/// FHV bases too.
fn mart() -> MartFixture {
    let mart = MartFixture::start();
    for month in ["2023-01", "2023-02", "2023-03"] {
        mart.fill_month(month, 1);
        mart.sql(&format!(
            "SELECT public.viz_fixture_fill_for_hire('{month}-01'), public.viz_fixture_fill_zone_market('{month}-01')"
        ));
    }
    mart
}

/// `atl-viz dashboard` with `args` into `out`; the page's DOM after Chromium loaded it.
fn render(mart: &MartFixture, args: &[&str], out: &Path) -> Html {
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_atl-viz"))
        .arg("dashboard")
        .args(args)
        .arg("--out")
        .arg(out)
        .env("ATL__MART__URL", mart.url())
        .status()
        .unwrap();
    assert!(status.success(), "atl-viz dashboard {args:?}");
    let (dom, stderr) = dump_dom(&format!("file://{}", out.join("index.html").display()));
    assert!(page_errors(&stderr).is_empty(), "{stderr}");
    Html::parse_document(&dom)
}

/// Trips per (zone or borough) and side, from the fixture's own table: the services named
/// by `services` (all when empty), months `[from, to]`.
fn expected(mart: &MartFixture, by: &str, services: &[&str], (from, to): (i32, i32)) -> Trips {
    let chosen = if services.is_empty() {
        String::new()
    } else {
        format!(
            " AND s.name IN ({})",
            services.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(",")
        )
    };
    let key = if by == "zone" { "a.pu_zone_id::text" } else { "coalesce(b.name, 'Unknown')" };
    let rows = mart.sql(&format!(
        "SELECT {key}, CASE WHEN s.name IN ('yellow', 'green') THEN 'taxis' WHEN s.name IN ('uber', 'lyft') \
         THEN s.name ELSE 'other' END, sum(a.trips) \
         FROM mart.agg_zone_month a JOIN mart.dim_service s USING (service_id) \
         LEFT JOIN mart.dim_zone z ON z.zone_id = a.pu_zone_id LEFT JOIN mart.dim_borough b USING (borough_id) \
         WHERE a.month_id BETWEEN {from} AND {to}{chosen} {} GROUP BY 1, 2",
        if by == "zone" { "AND a.pu_zone_id <= 263" } else { "" }
    ));
    let mut trips = Trips::new();
    for line in rows.lines() {
        let f: Vec<&str> = line.split('|').collect();
        let n: i64 = f[2].parse().unwrap();
        if n > 0 {
            *trips.entry(f[0].to_owned()).or_default().entry(f[1].to_owned()).or_default() += n;
        }
    }
    trips
}

type Trips = BTreeMap<String, BTreeMap<String, i64>>;

/// Every tag `<name …>` of `html` as its attributes.
fn tags(scope: ElementRef<'_>, css: &str) -> Vec<BTreeMap<String, String>> {
    all(scope, css)
        .into_iter()
        .map(|e| e.value().attrs().map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
        .collect()
}

/// `41.2` → 412 tenths of a percent.
fn tenths(share: &str) -> i64 {
    let (int, frac) = share.split_once('.').unwrap_or_else(|| panic!("share {share:?} has one decimal"));
    assert_eq!(frac.len(), 1, "share {share:?}");
    int.parse::<i64>().unwrap() * 10 + frac.parse::<i64>().unwrap()
}

/// The shares `shown` (side → tenths of a percent) are the trips' ratios within the rounding
/// and add up to exactly 100.0 %.
fn check_shares(what: &str, shown: &BTreeMap<String, i64>, trips: &BTreeMap<String, i64>) {
    let total: i64 = trips.values().sum();
    assert_eq!(shown.values().sum::<i64>(), 1000, "{what}: shares {shown:?} do not add up to 100.0 %");
    for (side, t) in shown {
        let exact = *trips.get(side).unwrap_or(&0) as f64 / total as f64 * 1000.0;
        assert!(
            (*t as f64 - exact).abs() < 1.0,
            "{what}: {side} shown {t}‰ for an exact {exact:.3}‰ ({trips:?})"
        );
    }
    for side in trips.keys() {
        assert!(shown.contains_key(side), "{what}: {side} has pickups and no share");
    }
}

/// The market table's share cells: borough (or `all`) → side → tenths.
fn table(dom: &Html) -> BTreeMap<String, BTreeMap<String, i64>> {
    let section = one(dom.root_element(), "#market-share").expect("the market-share section");
    let mut out: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for td in tags(section, "td[data-share]") {
        out.entry(td["data-borough"].clone())
            .or_default()
            .insert(td["data-service"].clone(), tenths(&td["data-share"]));
    }
    out
}

fn city(trips: &Trips) -> BTreeMap<String, i64> {
    let mut all = BTreeMap::new();
    for sides in trips.values() {
        for (side, t) in sides {
            *all.entry(side.clone()).or_default() += t;
        }
    }
    all
}

#[test]
fn shares_by_zone_and_borough_are_the_trips_ratios_and_add_up_to_100() {
    let mart = mart();
    let out = tempfile::tempdir().unwrap();
    let dom = render(&mart, &["--period", "2023-01..2023-02"], out.path());

    // The map: every zone with pickups in the leading side's colour, its shares as written.
    let by_zone = expected(&mart, "zone", &[], (202301, 202302));
    let map = figure(&dom, "market_map").expect("the market-share map");
    let zones: Vec<_> = tags(map, "path")
        .into_iter()
        .filter(|p| p.get("data-class").map(String::as_str) == Some("leader"))
        .collect();
    assert_eq!(zones.len(), by_zone.len(), "zones drawn with a leader");
    let mut leaders = BTreeSet::new();
    for z in &zones {
        let trips = &by_zone[&z["data-zone"]];
        let shown: BTreeMap<String, i64> = z["data-shares"]
            .split(' ')
            .map(|kv| kv.split_once(':').unwrap())
            .map(|(k, v)| (k.to_owned(), tenths(v)))
            .filter(|(k, v)| *v > 0 || trips.contains_key(k))
            .collect();
        check_shares(&format!("zone {}", z["data-zone"]), &shown, trips);
        let leader = &z["data-service"];
        assert_eq!(
            trips[leader],
            *trips.values().max().unwrap(),
            "zone {}: {leader} does not lead",
            z["data-zone"]
        );
        assert_eq!(tenths(&z["data-share"]), shown[leader], "zone {}", z["data-zone"]);
        assert_eq!(z["data-trips"], trips.values().sum::<i64>().to_string());
        leaders.insert(leader.clone());
    }
    assert_eq!(
        leaders,
        ["lyft", "other", "taxis", "uber"].map(String::from).into(),
        "each side leads somewhere"
    );
    let legend = text(one(map, ".legend").expect("the map's legend"));
    for label in ["Taxis (yellow + green) leads", "Uber leads", "Lyft leads", "Other for-hire leads"] {
        assert!(legend.contains(label), "map legend without {label}");
    }

    // The table: a row per borough and the city's, each the trips' ratios, each adding to 100 %.
    let by_borough = expected(&mart, "borough", &[], (202301, 202302));
    let shown = table(&dom);
    assert_eq!(shown.len(), by_borough.len() + 1, "boroughs and the city: {:?}", shown.keys());
    for (borough, trips) in &by_borough {
        check_shares(borough, &shown[borough], trips);
    }
    check_shares("all boroughs", &shown["all"], &city(&by_borough));
    // The pickups column is the borough's trips.
    let manhattan: i64 = by_borough["Manhattan"].values().sum();
    let pickups = tags(dom.root_element(), "td[data-trips]");
    assert!(pickups.iter().any(|td| td["data-trips"] == manhattan.to_string()), "Manhattan's pickups");

    // The period is followed: one month gives that month's shares.
    let dom = render(&mart, &["--period", "2023-03"], &out.path().join("march"));
    let by_borough = expected(&mart, "borough", &[], (202303, 202303));
    check_shares("all boroughs, 2023-03", &table(&dom)["all"], &city(&by_borough));
}

#[test]
fn the_service_filter_sets_the_sides_and_a_borough_is_marked() {
    let mart = mart();
    let out = tempfile::tempdir().unwrap();
    let services = ["yellow", "uber", "fhv"];
    let dom = render(
        &mart,
        &["--period", "2023-01..2023-03", "--service", "yellow,uber,fhv", "--borough", "Queens"],
        out.path(),
    );
    let by_borough = expected(&mart, "borough", &services, (202301, 202303));
    let shown = table(&dom);
    for (borough, trips) in &by_borough {
        check_shares(borough, &shown[borough], trips);
        assert!(!shown[borough].contains_key("lyft"), "{borough}: Lyft was not chosen");
    }
    // Queens is marked, the others stay.
    let rows = tags(dom.root_element(), "tr");
    let queens = rows.iter().find(|r| r.get("data-borough").map(String::as_str) == Some("Queens")).unwrap();
    assert_eq!(queens.get("class").map(String::as_str), Some("chosen"));
    assert!(rows.iter().filter(|r| r.get("class").map(String::as_str) == Some("chosen")).count() == 1);
    assert!(shown.contains_key("Manhattan"));
    // The map pales the zones outside Queens and shows the others' shares.
    let map = figure(&dom, "market_map").unwrap();
    let by_zone = expected(&mart, "zone", &services, (202301, 202303));
    for z in tags(map, "path") {
        let queens_zone = mart.sql(&format!(
            "SELECT b.name FROM mart.dim_zone z JOIN mart.dim_borough b USING (borough_id) WHERE zone_id = {}",
            z["data-zone"]
        )) == "Queens";
        assert_eq!(z["data-class"] == "outside", !queens_zone, "zone {}", z["data-zone"]);
        if queens_zone {
            let trips = &by_zone[&z["data-zone"]];
            assert_eq!(trips[&z["data-service"]], *trips.values().max().unwrap());
        }
    }
    let legend = text(one(figure(&dom, "market_map").unwrap(), ".legend").expect("the map's legend"));
    assert!(legend.contains("Outside Queens"), "{legend}");
}

#[test]
fn the_title_says_trips_and_the_taxi_only_panels_say_so() {
    let mart = mart();
    let out = tempfile::tempdir().unwrap();
    let dom = render(&mart, &["--period", "2023-01..2023-02"], out.path());
    assert_eq!(headings(&dom), ("NYC trips 2023-01..2023-02".into(), "NYC trips — 2023-01..2023-02".into()));
    for figure_name in ["payment_share", "tip_rate_by_borough", "zone_map_measure"] {
        let fig = figure(&dom, figure_name).unwrap();
        let note = one(fig, &format!("[data-taxi-only=\"{figure_name}\"]"));
        assert!(
            note.is_some_and(|n| text(n).contains("Taxis only")),
            "{figure_name} does not say it holds the taxis only"
        );
    }
    assert!(one(dom.root_element(), "[data-taxi-only=tip_rate]").is_some(), "the card tip rate tile");
    let taxi_only = |dom: &Html, name: &str| one(figure(dom, name).unwrap(), "[data-taxi-only]").is_some();
    for figure_name in ["trips_per_day", "top_zones", "fare_by_distance", "market_share"] {
        assert!(!taxi_only(&dom, figure_name), "{figure_name}");
    }
    // A measure other than the tip rate is every service's: no note on the second map.
    let server = ServeProcess::start(&mart.url());
    let (status, page) = http_get(&server.addr, "/?period=2023-01..2023-02&measure=revenue_per_trip");
    assert_eq!(status, 200);
    let page = Html::parse_document(&page);
    assert!(!taxi_only(&page, "zone_map_measure"), "note on the revenue map");
    assert!(taxi_only(&page, "payment_share"));
    // The taxis alone: "taxi trips", no note, and no share to compare.
    let dom = render(
        &mart,
        &["--period", "2023-01..2023-02", "--service", "yellow,green"],
        &out.path().join("taxis"),
    );
    assert_eq!(
        headings(&dom),
        ("NYC taxi trips 2023-01..2023-02".into(), "NYC taxi trips — 2023-01..2023-02".into())
    );
    assert!(one(dom.root_element(), "[data-taxi-only]").is_none(), "taxi-only notes on a taxis-only page");
    assert!(figure(&dom, "market_map").is_none(), "a market map with one side");
    let one_side = one(dom.root_element(), "[data-market=one-side]");
    assert!(one_side.is_some(), "the section says there is one side only");
    // A for-hire service without a day of trips in the period is still not "taxi trips".
    let dom = render(&mart, &["--period", "2023-03", "--service", "fhv"], &out.path().join("fhv"));
    assert_eq!(headings(&dom).1, "NYC trips — 2023-03", "the other for-hire services' heading");
}

/// The page's `<title>` and `<h1>`.
fn headings(dom: &Html) -> (String, String) {
    let of = |css: &str| text(one(dom.root_element(), css).unwrap_or_else(|| panic!("no {css}")));
    (of("title"), of("h1"))
}

/// The page as written, with a script that records, on each KPI tile, whether its text
/// (value, change, note) stays inside the tile's border box, laid out 1400 px wide.
#[test]
fn no_tile_text_leaves_its_box_at_1400_px() {
    let mart = mart();
    let out = tempfile::tempdir().unwrap();
    render(&mart, &["--period", "2023-01..2023-02"], out.path());
    let page = std::fs::read_to_string(out.path().join("index.html")).unwrap();
    let script = "<script>for (const k of document.querySelectorAll('.kpi')) {\
        const r = document.createRange(); r.selectNodeContents(k);\
        const c = r.getBoundingClientRect(), b = k.getBoundingClientRect();\
        k.dataset.inside = (c.left >= b.left + 1 && c.right <= b.right - 1) ? 'yes' : 'no';\
        k.dataset.extent = Math.round(c.left) + '..' + Math.round(c.right) + ' in ' + Math.round(b.left) + '..' + Math.round(b.right);\
        }</script></body>";
    let measured: PathBuf = out.path().join("measured.html");
    std::fs::write(&measured, page.replace("</body>", script)).unwrap();
    let (dom, stderr) = dump_dom_at(&format!("file://{}", measured.display()), 1400, 1000);
    assert!(page_errors(&stderr).is_empty(), "{stderr}");
    let dom = Html::parse_document(&dom);
    let tiles = tags(dom.root_element(), "div.kpi");
    assert_eq!(tiles.len(), 7, "KPI tiles");
    // The revenue tile holds a long figure ($37,376,796 for these two months).
    let revenue_tile = one(dom.root_element(), "[data-kpi=revenue]").expect("the revenue tile");
    let revenue = revenue_tile.text().next().unwrap_or_default().trim();
    assert!(revenue.starts_with('$') && revenue.len() >= 11, "revenue {revenue:?}");
    let outside: Vec<String> =
        tiles.iter().filter(|t| t["data-inside"] != "yes").map(|t| t["data-extent"].clone()).collect();
    assert!(outside.is_empty(), "tiles whose text leaves the box (text extent in box extent): {outside:?}");
}
