//! The exploratory report over the for-hire raw tables: every column profiled, the anomalies
//! that apply to the table counted exactly (checked against SQL written here), the others
//! left out of the page.

mod common;

use atl_core::{DatabaseConfig, RawTable, Secret, TripFile, TripKind, YearMonth};
use atl_devservices::PgServer;
use atl_testdata::{TripFileSpec, write_trip_file_to};
use atl_viz::eda::{ANOMALIES, EdaRequest};
use common::page::{Html, one};

const ROWS: usize = 6_000;

fn applicable(kind: TripKind, eda: &atl_viz::eda::Eda) -> Vec<&'static str> {
    let shown: Vec<&str> =
        ANOMALIES.iter().zip(&eda.applicable).filter(|(_, a)| **a).map(|(a, _)| a.key).collect();
    assert_eq!(eda.kind, kind);
    shown
}

#[test]
fn the_eda_report_covers_the_for_hire_tables() {
    let pg = PgServer::temp().expect("a temp PostgreSQL server");
    let lake_dir = tempfile::tempdir().unwrap();
    let month: YearMonth = "2023-06".parse().unwrap();
    let db = DatabaseConfig { url: Secret::new(pg.url("postgres")), parallelism: 2 };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let lake = atl_lake::Lake::open_folder(lake_dir.path()).unwrap();
    for kind in [TripKind::Fhvhv, TripKind::Fhv] {
        let spec = TripFileSpec::new(kind, month, ROWS).row_group_rows(2_000);
        write_trip_file_to(&spec, &lake_dir.path().join(TripFile::new(kind, month).lake_key())).unwrap();
        let report =
            rt.block_on(atl_warehouse::load(&db, &lake, &atl_warehouse::LoadRequest::new(kind), |_| {}));
        assert_eq!(report.unwrap().loaded().count(), 1);
    }
    let sql = |q: &str| pg.psql("postgres", q).unwrap_or_else(|e| panic!("{q}: {e}"));
    let out = tempfile::tempdir().unwrap();

    let hv =
        rt.block_on(atl_viz::eda::write_eda(&db, &EdaRequest::new(TripKind::Fhvhv), out.path())).unwrap();
    let eda = &hv.report.eda;
    assert_eq!(
        applicable(TripKind::Fhvhv, eda),
        [
            "negative_amount",
            "zero_distance",
            "out_of_month",
            "dropoff_before_pickup",
            "unknown_pickup_zone",
            "unknown_dropoff_zone"
        ]
    );
    let declared = atl_core::schema::canonical_columns(TripKind::Fhvhv).unwrap().len();
    assert_eq!((eda.columns.len(), eda.months.len(), eda.months[0].rows), (declared, 1, ROWS as i64));
    let table = RawTable::new(TripKind::Fhvhv).unwrap().parent();
    let expected = sql(&format!(
        "SELECT count(*) FILTER (WHERE least(base_passenger_fare, tolls, bcf, sales_tax, congestion_surcharge, \
                airport_fee, tips, driver_pay, cbd_congestion_fee) < 0), \
                count(*) FILTER (WHERE trip_miles = 0), \
                count(*) FILTER (WHERE pickup_datetime < '2023-06-01' OR pickup_datetime >= '2023-07-01') \
         FROM {table}"
    ));
    let k = |key: &str| ANOMALIES.iter().position(|a| a.key == key).unwrap();
    let m = &eda.months[0];
    let got = format!(
        "{}|{}|{}",
        m.anomalies[k("negative_amount")],
        m.anomalies[k("zero_distance")],
        m.anomalies[k("out_of_month")]
    );
    assert_eq!(got, expected);
    assert!(m.anomalies[k("negative_amount")] > 0, "the generator plants negative pay and fares");
    let html = Html::parse_document(&std::fs::read_to_string(&hv.index).unwrap());
    let total = |key: &str| one(html.root_element(), &format!("[data-anomaly-total={key}]"));
    assert!(total("negative_amount").is_some(), "no negative_amount total");
    assert!(total("unknown_vendor").is_none(), "fhvhv has no vendor column");

    let fhv = rt.block_on(atl_viz::eda::write_eda(&db, &EdaRequest::new(TripKind::Fhv), out.path())).unwrap();
    assert_eq!(
        applicable(TripKind::Fhv, &fhv.report.eda),
        ["out_of_month", "dropoff_before_pickup", "unknown_pickup_zone", "unknown_dropoff_zone"],
        "fhv has no money and no distance"
    );
    assert_eq!(fhv.report.eda.months[0].rows, ROWS as i64);
}
