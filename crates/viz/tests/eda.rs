//! `atl-viz eda` end to end: generated months loaded into a temp warehouse by atl-warehouse,
//! the report written by the binary, its figures checked against hand-written SQL, and the
//! page opened in headless Chromium (which also takes docs/screenshots/eda.png when
//! `ATL_UPDATE_SCREENSHOTS` is set).

mod common;

use std::path::Path;
use std::process::{Command, Output};

use atl_core::{DatabaseConfig, Secret, TripFile, TripKind, YearMonth};
use atl_devservices::PgServer;
use atl_testdata::{Era, TripFileSpec, write_trip_file_to};
use common::page::{self, ElementRef, Html, all, attr, data, one, text};
use common::{dump_dom, page_errors, screenshot};

const MONTHS: [&str; 2] = ["2023-01", "2023-02"];
const ROWS_PER_MONTH: usize = 20_000;

/// The anomalies as the page names them, each written here independently of the report's
/// SQL (yellow's columns spelt out, other formulations where there is one).
fn negative_amount_sql() -> String {
    let yellow = atl_core::schema::canonical_columns(atl_core::TripKind::Yellow).unwrap();
    let money = yellow.iter().filter(|c| c.kind == atl_core::schema::ColumnType::Money);
    money.map(|c| format!("{} < 0", c.name)).collect::<Vec<_>>().join(" OR ")
}

/// `negative_amount` ("any money column below 0") is built from core's money columns of
/// yellow by [`negative_amount_sql`].
const ANOMALY_SQL: [(&str, &str); 9] = [
    ("negative_amount", "{negative_amount}"),
    ("zero_distance", "trip_distance = 0"),
    ("out_of_month", "date_trunc('month', tpep_pickup_datetime) <> source_month"),
    ("dropoff_before_pickup", "tpep_dropoff_datetime < tpep_pickup_datetime"),
    ("unknown_vendor", "vendorid <> ALL (ARRAY[1, 2, 6, 7])"),
    (
        "unknown_ratecode",
        "NOT (ratecodeid BETWEEN 1 AND 6 OR ratecodeid = 99) OR ratecodeid <> trunc(ratecodeid)",
    ),
    ("unknown_payment_type", "payment_type < 0 OR payment_type > 6 OR payment_type <> trunc(payment_type)"),
    ("unknown_pickup_zone", "pulocationid < 1 OR pulocationid > 265"),
    ("unknown_dropoff_zone", "dolocationid < 1 OR dolocationid > 265"),
];

struct Warehouse {
    pg: PgServer,
    _lake_dir: tempfile::TempDir,
}

impl Warehouse {
    /// A temp warehouse holding `MONTHS` of generated yellow trips, loaded by atl-warehouse.
    fn filled() -> Warehouse {
        let pg = PgServer::temp().expect("a temp PostgreSQL server (install the postgresql package)");
        let lake_dir = tempfile::tempdir().unwrap();
        for month in MONTHS {
            let month: YearMonth = month.parse().unwrap();
            let spec = TripFileSpec::new(TripKind::Yellow, month, ROWS_PER_MONTH)
                .era(Era::of(month))
                .row_group_rows(ROWS_PER_MONTH / 3);
            let path = lake_dir.path().join(TripFile::new(TripKind::Yellow, month).lake_key());
            write_trip_file_to(&spec, &path).unwrap();
        }
        let lake = atl_lake::Lake::open_folder(lake_dir.path()).unwrap();
        let db = DatabaseConfig { url: Secret::new(pg.url("postgres")), parallelism: 2 };
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let request = atl_warehouse::LoadRequest::new(TripKind::Yellow);
        let report = rt.block_on(atl_warehouse::load(&db, &lake, &request, |_| {})).unwrap();
        assert_eq!(report.loaded().count(), MONTHS.len(), "{:?}", report.months);
        let warehouse = Warehouse { pg, _lake_dir: lake_dir };
        // The generator plants nulls, negative amounts, zero distances and bad times; a few
        // unknown codes as well, so that every anomaly count is compared on non-zero figures.
        warehouse.sql(
            "UPDATE raw.yellow_tripdata SET vendorid = 3 WHERE source_month = '2023-01-01' AND source_row < 7;
             UPDATE raw.yellow_tripdata SET ratecodeid = 7 WHERE source_month = '2023-01-01' AND source_row BETWEEN 10 AND 14;
             UPDATE raw.yellow_tripdata SET payment_type = 9 WHERE source_month = '2023-02-01' AND source_row < 4;
             UPDATE raw.yellow_tripdata SET pulocationid = 0 WHERE source_month = '2023-02-01' AND source_row BETWEEN 20 AND 22;
             UPDATE raw.yellow_tripdata SET dolocationid = 300 WHERE source_month = '2023-01-01' AND source_row BETWEEN 30 AND 31;",
        );
        warehouse
    }

    fn sql(&self, sql: &str) -> String {
        self.pg.psql("postgres", sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The data columns of raw.yellow_tripdata, in order.
    fn columns(&self) -> Vec<String> {
        self.sql(
            "SELECT column_name FROM information_schema.columns
             WHERE table_schema = 'raw' AND table_name = 'yellow_tripdata'
               AND column_name NOT IN ('source_month', 'source_key', 'source_row')
             ORDER BY ordinal_position",
        )
        .lines()
        .map(str::to_owned)
        .collect()
    }

    /// (rows, nulls per column) of a month.
    fn nulls(&self, month: &str, columns: &[String]) -> (i64, Vec<i64>) {
        let each: Vec<String> = columns.iter().map(|c| format!("sum(({c} IS NULL)::int)")).collect();
        let row = self.sql(&format!(
            "SELECT count(*), {} FROM raw.yellow_tripdata WHERE source_month = '{month}-01'",
            each.join(", ")
        ));
        let mut values = row.split('|').map(|v| v.parse::<i64>().unwrap_or(0));
        (values.next().unwrap(), values.collect())
    }

    /// Anomaly counts of a month in `ANOMALY_SQL` order, then rows with any of them.
    fn anomalies(&self, month: &str) -> Vec<i64> {
        let predicates: Vec<String> =
            ANOMALY_SQL.iter().map(|(_, p)| p.replace("{negative_amount}", &negative_amount_sql())).collect();
        let mut each: Vec<String> =
            predicates.iter().map(|p| format!("count(*) FILTER (WHERE {p})")).collect();
        let any: Vec<String> = predicates.iter().map(|p| format!("coalesce({p}, false)")).collect();
        each.push(format!("count(*) FILTER (WHERE {})", any.join(" OR ")));
        let row = self.sql(&format!(
            "SELECT {} FROM raw.yellow_tripdata WHERE source_month = '{month}-01'",
            each.join(", ")
        ));
        row.split('|').map(|v| v.parse().unwrap()).collect()
    }
}

fn run_eda(warehouse: &Warehouse, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_atl-viz"))
        .args(["eda", "--kind", "yellow", "--warehouse-url", &warehouse.pg.url("postgres"), "--out"])
        .arg(out)
        .args(extra)
        .env("RUST_LOG", "atl_viz=warn")
        .output()
        .unwrap()
}

/// The `data-value` of the element `css` selects.
fn value(root: ElementRef<'_>, css: &str) -> f64 {
    attr(root, css, "data-value")
        .unwrap_or_else(|| panic!("{css} not on the page"))
        .parse()
        .unwrap_or_else(|e| panic!("{css}: {e}"))
}

/// The selector of a statistic's cell.
fn stat(column: &str, month: &str, stat: &str) -> String {
    format!("[data-column=\"{column}\"][data-month=\"{month}\"][data-stat=\"{stat}\"]")
}

/// The data-sample-percent of a month's section.
fn sample_percent(root: ElementRef<'_>, month: &str) -> Option<String> {
    attr(root, &format!("#month-{month}"), "data-sample-percent")
}

/// The checks that hold with or without sampling.
fn assert_report(source: &str, warehouse: &Warehouse, columns: &[String]) {
    let html = Html::parse_document(source);
    let root = html.root_element();
    assert_eq!(attr(root, "body", "data-kind").as_deref(), Some("yellow"), "wrong body");
    assert_eq!(attr(root, "body", "data-period").as_deref(), Some("2023-01..2023-02"), "wrong body");
    let fetched: Vec<String> = all(root, "script, link, [src]").iter().map(|e| e.html()).collect();
    assert!(fetched.is_empty(), "the page is not self-contained: {fetched:?}");
    let mut total_nulls = 0;
    let mut anomaly_totals = [0; ANOMALY_SQL.len()];
    for month in MONTHS {
        let (rows, nulls) = warehouse.nulls(month, columns);
        assert_eq!(rows, ROWS_PER_MONTH as i64);
        assert_eq!(attr(root, &format!("#month-{month}"), "data-rows"), Some(rows.to_string()));
        for (column, nulls) in columns.iter().zip(&nulls) {
            let cell = stat(column, month, "null_rate");
            assert_eq!(attr(root, &cell, "data-nulls"), Some(nulls.to_string()), "{cell}");
            let want = *nulls as f64 / rows as f64;
            let got = value(root, &cell);
            assert!((got - want).abs() <= 1e-15, "null rate of {column} in {month}: page {got}, SQL {want}");
            total_nulls += nulls;
        }
        let expected = warehouse.anomalies(month);
        for (k, ((key, _), want)) in ANOMALY_SQL.iter().zip(&expected).enumerate() {
            let got = value(root, &format!("[data-month=\"{month}\"][data-anomaly=\"{key}\"]"));
            assert_eq!(got, *want as f64, "anomaly {key} in {month}");
            anomaly_totals[k] += want;
        }
        let any = value(root, &format!("[data-month=\"{month}\"][data-anomaly=any]"));
        assert_eq!(any, expected[ANOMALY_SQL.len()] as f64, "rows with any anomaly in {month}");
    }
    // The comparisons above are not all zeros: the generator plants nulls and defects.
    assert!(total_nulls > 0, "no null at all: the null-rate check proves little");
    assert!(anomaly_totals.iter().all(|n| *n > 0), "an anomaly never occurs: {anomaly_totals:?}");

    let anomalies = page::figure(&html, "anomalies").expect("the anomaly chart");
    assert!(all(anomalies, "svg rect").len() >= 2, "{}", anomalies.html());
    for column in columns {
        let section = format!("[data-column-section=\"{column}\"]");
        assert!(one(root, &section).is_some(), "no section for {column}");
        for month in MONTHS {
            let name = format!("hist-{column}-{month}");
            let fig = page::figure(&html, &name).unwrap_or_else(|| panic!("histogram {name} missing"));
            assert!(one(fig, "svg").is_some(), "{name} has no SVG");
            let all_null = value(root, &stat(column, month, "null_rate")) == 1.0;
            if !all_null {
                let marks: usize = data(fig, "data-marks").unwrap().parse().unwrap();
                assert!(marks > 0, "histogram {name} drew no bar");
                // The white background is one rect; the bars come on top of it.
                assert!(all(fig, "svg rect").len() > marks, "histogram {name} is empty");
            }
        }
    }
}

#[test]
fn the_eda_report_profiles_the_warehouse() {
    let warehouse = Warehouse::filled();
    let columns = warehouse.columns();
    assert!(columns.len() >= 19 && columns.contains(&"fare_amount".to_owned()), "{columns:?}");
    let out = tempfile::tempdir().unwrap();

    let output = run_eda(&warehouse, out.path(), &["--months", "2023-01..2023-02"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let index = out.path().join("index.html");
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), index.display().to_string());
    let source = std::fs::read_to_string(&index).unwrap();
    assert_report(&source, &warehouse, &columns);
    let html = Html::parse_document(&source);

    // Small months are not sampled: quantiles, min and max equal the exact SQL figures.
    for month in MONTHS {
        assert_eq!(sample_percent(html.root_element(), month).as_deref(), Some("100"));
        let exact = warehouse.sql(&format!(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY fare_amount), \
                    percentile_cont(0.99) WITHIN GROUP (ORDER BY trip_distance), \
                    min(trip_distance), max(total_amount) \
             FROM raw.yellow_tripdata WHERE source_month = '{month}-01'"
        ));
        let exact: Vec<f64> = exact.split('|').map(|v| v.parse().unwrap()).collect();
        let on_page = [
            ("fare_amount", "p50"),
            ("trip_distance", "p99"),
            ("trip_distance", "min"),
            ("total_amount", "max"),
        ]
        .map(|(c, s)| value(html.root_element(), &stat(c, month, s)));
        for (got, want) in on_page.iter().zip(&exact) {
            assert!((got - want).abs() <= want.abs() * 1e-12, "{month}: page {on_page:?}, SQL {exact:?}");
        }
    }

    // In Chromium: no error logged, every section there; the screenshot for the README.
    let url = format!("file://{}", index.display());
    let (dom, stderr) = dump_dom(&url);
    let errors = page_errors(&stderr);
    assert!(errors.is_empty(), "the page logged errors: {errors:?}");
    let dom = Html::parse_document(&dom);
    for column in &columns {
        let section = format!("[data-column-section=\"{column}\"]");
        assert!(one(dom.root_element(), &section).is_some(), "{column} missing in Chromium's DOM");
    }
    assert_eq!(all(dom.root_element(), "svg").len(), 1 + columns.len() * MONTHS.len());
    let shot = out.path().join("eda.png");
    let stderr = screenshot(&url, &shot, 1400, 2500);
    assert!(page_errors(&stderr).is_empty(), "{stderr}");
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000, "the screenshot is suspiciously small");
    // The README's copy is remade on request only: a test run leaves the checkout as it was.
    if std::env::var_os("ATL_UPDATE_SCREENSHOTS").is_some() {
        let readme_shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots/eda.png");
        std::fs::copy(&shot, readme_shot).unwrap();
    }

    // Sampled months: exact counts stay exact, the page says what was sampled.
    let sampled = out.path().join("sampled");
    let output = run_eda(&warehouse, &sampled, &["--sample-rows", "5000"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let source = std::fs::read_to_string(sampled.join("index.html")).unwrap();
    assert_report(&source, &warehouse, &columns);
    let html = Html::parse_document(&source);
    for month in MONTHS {
        let pct: f64 = sample_percent(html.root_element(), month).unwrap().parse().unwrap();
        assert!((20.0..30.0).contains(&pct), "{month} sampled at {pct} %");
    }
    let said = text(html.root_element());
    assert!(said.contains("page sample of about 5,000 rows (TABLESAMPLE SYSTEM"), "sampling not documented");

    // Months the warehouse does not hold: an error that says so, no page.
    let output = run_eda(&warehouse, &out.path().join("none"), &["--months", "2024-01"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("holds no month"), "{output:?}");
}
