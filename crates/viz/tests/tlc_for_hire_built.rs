//! The for-hire rows of the TLC comparison end to end: generated high-volume and other-FHV
//! months of 2023-06 loaded by atl-warehouse and built by atl-mart, with the repository's real
//! indicators file (release of 2024-01) in the lake, read back from the page Chromium renders;
//! a tenth of the high-volume rows of a licence the mart does not name, a tenth of none.
//! A few thousand generated rows stand against the TLC's hundreds of thousands a day, so
//! both rows are flagged; what is checked is that each figure is the one it should be.

mod common;

use atl_core::{DatabaseConfig, Secret, TripFile, TripKind, YearMonth};
use atl_devservices::PgServer;
use atl_testdata::{Era, TripFileSpec, real, write_trip_file_to};
use common::page::{Html, data, one, text};
use common::{ServeProcess, dump_dom, page_errors};

/// trips per day of a class of the real report, straight from the CSV's text.
fn report_trips(month: &str, class: &str) -> f64 {
    let csv = std::fs::read_to_string(real::path(real::INDICATORS)).unwrap();
    let line = csv.lines().find(|l| l.starts_with(&format!("{month},{class},"))).unwrap();
    // The third field, quoted when it has a thousands separator ("645,549").
    let rest = &line[month.len() + class.len() + 2..];
    let field = match rest.strip_prefix('"') {
        Some(quoted) => &quoted[..quoted.find('"').unwrap()],
        None => &rest[..rest.find(',').unwrap()],
    };
    field.replace(',', "").parse().unwrap()
}

#[test]
fn a_built_for_hire_month_stands_beside_the_real_report() {
    let warehouse = PgServer::temp().expect("a temp PostgreSQL server");
    let mart = PgServer::temp().expect("a second temp PostgreSQL server");
    let lake_dir = tempfile::tempdir().unwrap();
    let month: YearMonth = "2023-06".parse().unwrap();
    for (kind, rows) in [(TripKind::Fhvhv, 4_000), (TripKind::Fhv, 2_000)] {
        let spec = TripFileSpec::new(kind, month, rows).era(Era::of(month));
        write_trip_file_to(&spec, &lake_dir.path().join(TripFile::new(kind, month).lake_key())).unwrap();
    }
    let indicators = lake_dir.path().join(atl_core::INDICATORS_LAKE_KEY);
    std::fs::create_dir_all(indicators.parent().unwrap()).unwrap();
    std::fs::copy(real::path(real::INDICATORS), &indicators).unwrap();

    let lake = atl_lake::Lake::open_folder(lake_dir.path()).unwrap();
    let wh_db = DatabaseConfig { url: Secret::new(warehouse.url("postgres")), parallelism: 2 };
    let mart_db = DatabaseConfig { url: Secret::new(mart.url("postgres")), parallelism: 2 };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for kind in [TripKind::Fhvhv, TripKind::Fhv] {
        let loaded =
            rt.block_on(atl_warehouse::load(&wh_db, &lake, &atl_warehouse::LoadRequest::new(kind), |_| {}));
        assert!(loaded.unwrap().loaded().count() > 0, "{kind}");
    }
    // High-volume trips of a licence the mart does not name and of none: the TLC's class
    // counts them as well.
    warehouse
        .psql(
            "postgres",
            "UPDATE raw.fhvhv_tripdata SET hvfhs_license_num = CASE WHEN source_row % 10 = 0 THEN 'HV0099' END \
             WHERE source_row % 10 < 2",
        )
        .unwrap();
    for kind in [TripKind::Fhvhv, TripKind::Fhv] {
        let built = rt
            .block_on(atl_mart::build(&wh_db, &mart_db, &lake, &atl_mart::BuildRequest::new(kind), |_| {}))
            .unwrap();
        assert_eq!(built.failures().count(), 0, "{kind}: {:?}", built.failures().collect::<Vec<_>>());
    }

    // Ours on the TLC's definition, counted on the warehouse: every high-volume row and every
    // other-FHV row picked up in June.
    let in_june = "pickup_datetime >= '2023-06-01' AND pickup_datetime < '2023-07-01'";
    let count = |sql: String| -> f64 { warehouse.psql("postgres", &sql).unwrap().trim().parse().unwrap() };
    let hv_ours = count(format!("SELECT count(*) FROM raw.fhvhv_tripdata WHERE {in_june}")) / 30.0;
    let unnamed = count(format!(
        "SELECT count(*) FROM raw.fhvhv_tripdata WHERE {in_june} \
         AND coalesce(hvfhs_license_num, '') NOT IN ('HV0002', 'HV0003', 'HV0004', 'HV0005')"
    ));
    assert!(unnamed > 100.0, "the test needs high-volume rows of no named licence: {unnamed}");
    let other_ours = count(format!("SELECT count(*) FROM raw.fhv_tripdata WHERE {in_june}")) / 30.0;
    let staged = count("SELECT count(*) FROM raw.fhv_tripdata".into()) / 30.0;
    assert!(other_ours < staged, "some generated rows are picked up outside the month");
    let hv_theirs = report_trips("2023-06", "FHV - High Volume");
    let other_theirs: f64 = ["FHV - Black Car", "FHV - Livery", "FHV - Lux Limo"]
        .iter()
        .map(|c| report_trips("2023-06", c))
        .sum();

    let server = ServeProcess::start(&mart.url("postgres"));
    let (dom, stderr) = dump_dom(&format!("{}?period=2023-06", server.url()));
    assert!(page_errors(&stderr).is_empty(), "{stderr}");
    let page = Html::parse_document(&dom);
    let tlc = one(page.root_element(), "section#tlc").expect("the TLC section");
    for (class, theirs, ours) in
        [("FHV - High Volume", hv_theirs, hv_ours), ("FHV - Other", other_theirs, other_ours)]
    {
        let row = one(tlc, &format!("tr[data-month=\"2023-06\"][data-class=\"{class}\"]"))
            .unwrap_or_else(|| panic!("{class}: {}", tlc.html()));
        let cells = text(row);
        let attr = |name: &str| data(row, name).unwrap_or_else(|| panic!("{name} in {cells}"));
        assert_eq!(attr("data-tlc-trips").parse::<f64>().unwrap(), theirs, "{class}");
        let shown: f64 = attr("data-our-trips").parse().unwrap();
        assert!((shown - ours).abs() < 1e-9, "{class}: ours {shown}, the warehouse's {ours}");
        let deviation: f64 = attr("data-deviation").parse().unwrap();
        assert!((deviation - (ours - theirs) / theirs).abs() < 1e-9, "{class}: {deviation}");
        assert_eq!(attr("data-flagged"), "true", "{class}");
        assert!(cells.contains(&format!("⚠ {:+.2} %", deviation * 100.0)), "{cells}");
        assert_eq!(attr("data-our-farebox"), "", "for-hire rows have no farebox of ours: {cells}");
    }
}
