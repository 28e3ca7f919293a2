//! The borough filter end to end: generated yellow and high-volume months of 2025-02 (with
//! the congestion fee) loaded by atl-warehouse and built by atl-mart, with the zone table in
//! the lake, then the page for one borough read back from Chromium. Every tile and panel,
//! taxi and for-hire, must show that borough's own figures: the fact tables' counts and sums
//! of the trips picked up in it, not the city's.

mod common;

use atl_core::{DatabaseConfig, Secret, TripFile, TripKind, YearMonth};
use atl_devservices::PgServer;
use atl_testdata::{Era, TripFileSpec, write_trip_file_to, zone_table_csv};
use common::page::{self, Html, attr, data, one, text};
use common::{ServeProcess, dump_dom, page_errors};

const BOROUGH: &str = "Queens";
/// A figure of nothing, for the side of the facts a figure does not count.
const NONE: &str = "count(*) * 0";

/// The built mart's figure `sql` computes over the trips picked up in `borough` (`f` is a
/// fact row, `z` its pickup zone's borough name), taxi and for-hire facts.
fn facts(mart: &PgServer, taxi: &str, for_hire: &str, borough: &str) -> f64 {
    let sql = format!(
        "SELECT coalesce((SELECT {taxi} FROM mart.fact_trip f JOIN mart.dim_zone d ON d.zone_id = f.pu_zone_id \
                          JOIN mart.dim_borough z USING (borough_id) WHERE z.name = '{borough}'), 0) \
              + coalesce((SELECT {for_hire} FROM mart.fact_for_hire_trip f JOIN mart.dim_zone d ON d.zone_id = f.pu_zone_id \
                          JOIN mart.dim_borough z USING (borough_id) WHERE z.name = '{borough}'), 0)"
    );
    mart.psql("postgres", &sql).unwrap().trim().parse().unwrap()
}

fn close(shown: f64, expected: f64, what: &str) {
    assert!(
        (shown - expected).abs() <= 1e-6 * expected.abs().max(1.0),
        "{what}: page {shown}, facts {expected}"
    );
}

fn build(warehouse: &PgServer, mart: &PgServer) {
    let lake_dir = tempfile::tempdir().unwrap();
    let month: YearMonth = "2025-02".parse().unwrap();
    for kind in [TripKind::Yellow, TripKind::Fhvhv] {
        let spec = TripFileSpec::new(kind, month, 4_000).era(Era::of(month));
        write_trip_file_to(&spec, &lake_dir.path().join(TripFile::new(kind, month).lake_key())).unwrap();
    }
    let zones = lake_dir.path().join(atl_core::ZONES_LAKE_KEY);
    std::fs::create_dir_all(zones.parent().unwrap()).unwrap();
    std::fs::write(zones, zone_table_csv()).unwrap();
    let lake = atl_lake::Lake::open_folder(lake_dir.path()).unwrap();
    let wh_db = DatabaseConfig { url: Secret::new(warehouse.url("postgres")), parallelism: 2 };
    let mart_db = DatabaseConfig { url: Secret::new(mart.url("postgres")), parallelism: 2 };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for kind in [TripKind::Yellow, TripKind::Fhvhv] {
        let loaded =
            rt.block_on(atl_warehouse::load(&wh_db, &lake, &atl_warehouse::LoadRequest::new(kind), |_| {}));
        assert!(loaded.unwrap().loaded().count() > 0, "{kind}");
        let built = rt
            .block_on(atl_mart::build(&wh_db, &mart_db, &lake, &atl_mart::BuildRequest::new(kind), |_| {}))
            .unwrap();
        assert_eq!(built.failures().count(), 0, "{kind}: {:?}", built.failures().collect::<Vec<_>>());
    }
}

#[test]
fn with_a_borough_chosen_every_tile_and_panel_counts_its_pickups() {
    let warehouse = PgServer::temp().expect("a temp PostgreSQL server");
    let mart = PgServer::temp().expect("a second temp PostgreSQL server");
    build(&warehouse, &mart);
    let server = ServeProcess::start(&mart.url("postgres"));

    let trips = |borough: &str| facts(&mart, "count(*)", "count(*)", borough);
    let city: f64 = mart
        .psql(
            "postgres",
            "SELECT (SELECT count(*) FROM mart.fact_trip) + (SELECT count(*) FROM mart.fact_for_hire_trip)",
        )
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let queens = trips(BOROUGH);
    assert!(queens > 100.0 && queens < city / 2.0, "Queens {queens} of the city's {city}");

    let (dom, stderr) = dump_dom(&format!("{}?period=2025-02&borough={BOROUGH}", server.url()));
    assert!(page_errors(&stderr).is_empty(), "{stderr}");
    let html = Html::parse_document(&dom);
    let root = html.root_element();
    assert_eq!(attr(root, "body", "data-borough").as_deref(), Some(BOROUGH));
    let note = text(one(root, "#borough-note").expect("the borough note"));
    assert!(note.contains("every tile and panel counts the trips picked up in it"), "{note}");

    // The tiles.
    let tile = |key: &str| -> f64 {
        attr(root, &format!("[data-kpi={key}]"), "data-value").unwrap().parse().unwrap()
    };
    close(tile("trips"), queens, "trips tile");
    let revenue =
        facts(&mart, "sum(total_amount_cents) * 0.01", "sum(passenger_total_cents) * 0.01", BOROUGH);
    close(tile("revenue"), revenue, "revenue tile");
    let duration = facts(&mart, "sum(duration_sec)", "sum(duration_sec)", BOROUGH);
    close(tile("avg_duration"), duration / queens, "average duration tile");

    // Every panel that counts trips: what its marks add up to.
    let count = |chart: &str| -> f64 {
        let fig = page::figure(&html, chart).unwrap_or_else(|| panic!("no {chart} panel"));
        assert_eq!(fig.value().attr("data-count-of"), Some("trips"), "{chart}");
        fig.value().attr("data-count").unwrap().parse().unwrap()
    };
    let taxi = facts(&mart, "count(*)", NONE, BOROUGH);
    let high_volume = facts(&mart, NONE, "count(*)", BOROUGH);
    let waited = facts(&mart, NONE, "count(wait_sec)", BOROUGH);
    let with_distance =
        facts(&mart, "count(trip_distance_hundredths)", "count(trip_miles_hundredths)", BOROUGH);
    for (chart, expected) in [
        ("trips_per_day", queens),
        ("hour_weekday", queens),
        ("payment_share", taxi),
        ("fare_by_distance", with_distance),
        ("market_share", queens),
        ("wait_by_hour", waited),
        ("driver_pay_share", high_volume),
        ("shared_ride_share", high_volume),
    ] {
        close(count(chart), expected, chart);
    }
    let fig = page::figure(&html, "revenue_by_month").unwrap();
    close(fig.value().attr("data-count").unwrap().parse().unwrap(), revenue, "revenue_by_month");

    // Congestion pricing: per service, the borough's trips charged the fee and its total.
    let section = one(root, "section#congestion").expect("the congestion section");
    for (service, taxi_side) in [("Yellow", true), ("Uber", false), ("Lyft", false)] {
        let row = one(section, &format!("tr[data-service=\"{service}\"]"))
            .unwrap_or_else(|| panic!("no {service} row: {}", section.html()));
        let attr = |name: &str| -> f64 { data(row, name).unwrap().parse().unwrap() };
        let licence = match service {
            "Uber" => "HV0003",
            "Lyft" => "HV0005",
            _ => "",
        };
        let (charged, fee) = if taxi_side {
            let only = "count(*) FILTER (WHERE cbd_congestion_fee_cents > 0)";
            (
                facts(&mart, only, NONE, BOROUGH),
                facts(&mart, "sum(cbd_congestion_fee_cents) * 0.01", NONE, BOROUGH),
            )
        } else {
            let mine =
                format!("service_id = (SELECT service_id FROM mart.dim_service WHERE licence = '{licence}')");
            (
                facts(
                    &mart,
                    NONE,
                    &format!("count(*) FILTER (WHERE cbd_congestion_fee_cents > 0 AND {mine})"),
                    BOROUGH,
                ),
                facts(
                    &mart,
                    NONE,
                    &format!("coalesce(sum(cbd_congestion_fee_cents) FILTER (WHERE {mine}), 0) * 0.01"),
                    BOROUGH,
                ),
            )
        };
        assert!(charged > 0.0, "{service}: no trip charged in {BOROUGH}");
        close(attr("data-charged"), charged, &format!("{service} trips charged"));
        close(attr("data-fee"), fee, &format!("{service} fee total"));
    }

    // The whole city, for contrast: the same tile is the city's count.
    let (dom, _) = dump_dom(&format!("{}?period=2025-02", server.url()));
    let city_page = Html::parse_document(&dom);
    let city_tile: f64 =
        attr(city_page.root_element(), "[data-kpi=trips]", "data-value").unwrap().parse().unwrap();
    close(city_tile, city, "the city's trips tile");
}
