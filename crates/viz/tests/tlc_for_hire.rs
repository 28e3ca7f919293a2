//! The TLC's figures for the for-hire half, read back from the page Chromium renders: the
//! repository's real indicators file (release of 2024-01) in the mart, and months of ours
//! whose trips stand a known distance from the report's: the high-volume services against
//! "FHV - High Volume", the mart's `fhv` against the sum of the report's three other-FHV
//! classes; and the taxis' farebox on the TLC's definition (total less card tips only).

mod common;

use atl_testdata::real;
use common::page::{ElementRef, Html, data, one, text};
use common::{MartFixture, ServeProcess, dump_dom, page_errors};

/// One month's figures of a class, straight from the CSV's text (not the lake's parser):
/// trips per day and farebox per day (`None`: the report's `-`).
fn report_figures(month: &str, class: &str) -> (f64, Option<f64>) {
    let csv = std::fs::read_to_string(real::path(real::INDICATORS)).unwrap();
    let line = csv
        .lines()
        .find(|l| l.starts_with(&format!("{month},{class},")))
        .unwrap_or_else(|| panic!("{month} {class} in the real indicators"));
    // Fields with thousands separators are quoted: split on commas outside quotes.
    let mut fields = vec![String::new()];
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(String::new()),
            c => fields.last_mut().unwrap().push(c),
        }
    }
    let number = |f: &str| f.replace(',', "").parse::<f64>().ok();
    (number(&fields[2]).unwrap(), number(&fields[3]))
}

/// The whole real file into `mart.ref_tlc_indicator`, as atl-mart loads it.
fn load_real_indicators(mart: &MartFixture) {
    let rows =
        atl_lake::reference::read_indicators(&std::fs::read(real::path(real::INDICATORS)).unwrap()).unwrap();
    let opt = |v: Option<f64>| v.map_or("NULL".to_owned(), |v| v.to_string());
    let values: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "({}, '{}', {}, {})",
                r.month.to_string().replace('-', ""),
                r.licence_class,
                opt(r.trips_per_day),
                opt(r.farebox_per_day)
            )
        })
        .collect();
    mart.sql(&format!("INSERT INTO mart.ref_tlc_indicator VALUES {}", values.join(", ")));
}

/// The TLC section of a page.
fn tlc_section(page: &Html) -> ElementRef<'_> {
    one(page.root_element(), "section#tlc").expect("the TLC section")
}

/// The table row of a month and class.
fn row<'a>(tlc: ElementRef<'a>, month: &str, class: &str) -> ElementRef<'a> {
    one(tlc, &format!("tr[data-month=\"{month}\"][data-class=\"{class}\"]"))
        .unwrap_or_else(|| panic!("no row for {month} {class}: {}", tlc.html()))
}

fn attr(row: ElementRef<'_>, name: &str) -> String {
    data(row, name).unwrap_or_else(|| panic!("{name} in {}", row.html()))
}

#[test]
fn the_for_hire_classes_stand_beside_the_real_report_with_their_deviations() {
    let mart = MartFixture::start();
    load_real_indicators(&mart);
    // June 2023: Uber and Lyft (the fixture's daily trips), and the mart's fhv service.
    mart.sql("SELECT public.viz_fixture_fill_for_hire('2023-06-01'), public.viz_fixture_fill_for_hire('2023-05-01')");
    mart.sql("INSERT INTO mart.dim_service VALUES (3, 'fhv', NULL) ON CONFLICT DO NOTHING");
    let days = 30.0;
    let (hv, hv_farebox) = report_figures("2023-06", "FHV - High Volume");
    assert_eq!(hv_farebox, None, "the report gives no farebox for the for-hire classes");
    let other: f64 = ["FHV - Black Car", "FHV - Livery", "FHV - Lux Limo"]
        .iter()
        .map(|c| report_figures("2023-06", c).0)
        .sum();
    // Ours on the TLC's definition: the high-volume services 1.5 % above the report (split
    // between Uber and Lyft), fhv 0.4 % below it.
    let hv_trips = (hv * days * 1.015).round() as i64;
    let uber = hv_trips * 7 / 10;
    let fhv_trips = (other * days * 0.996).round() as i64;
    mart.sql(&format!(
        "INSERT INTO mart.agg_month_recorded VALUES
             (6, 202306, {uber}, {}, 0, NULL), (8, 202306, {}, {}, 0, NULL), (3, 202306, {fhv_trips}, 0, 0, NULL),
             (3, 202305, 600000, 0, 0, NULL);
         INSERT INTO mart.agg_daily VALUES (3, 20230615, {}, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0);
         -- May without one of the three classes: no sum to set fhv against.
         DELETE FROM mart.ref_tlc_indicator WHERE month_id = 202305 AND licence_class = 'FHV - Lux Limo';",
        uber * 30,
        hv_trips - uber,
        (hv_trips - uber) * 30,
        fhv_trips - 50,
    ));

    let server = ServeProcess::start(&mart.url());
    let (dom, stderr) = dump_dom(&format!("{}?period=2023-05..2023-06", server.url()));
    assert!(page_errors(&stderr).is_empty(), "{stderr}");
    let page = Html::parse_document(&dom);
    let tlc = tlc_section(&page);

    for (class, theirs, ours, flagged) in [
        ("FHV - High Volume", hv, hv_trips as f64 / days, true),
        ("FHV - Other", other, fhv_trips as f64 / days, false),
    ] {
        let r = row(tlc, "2023-06", class);
        assert_eq!(attr(r, "data-tlc-trips").parse::<f64>().unwrap(), theirs, "{class}");
        let shown: f64 = attr(r, "data-our-trips").parse().unwrap();
        assert!((shown - ours).abs() < 1e-6, "{class}: ours {shown}, want {ours}");
        let deviation: f64 = attr(r, "data-deviation").parse().unwrap();
        assert!((deviation - (ours - theirs) / theirs).abs() < 1e-9, "{class}: {deviation}");
        assert_eq!(attr(r, "data-flagged"), flagged.to_string(), "{class}: {deviation}");
        let cells = text(r);
        assert_eq!(cells.contains('⚠'), flagged, "{class}: {cells}");
        // The percentage as the cell writes it.
        assert!(cells.contains(&format!("{:+.2} %", deviation * 100.0)), "{class}: {cells}");
        // No farebox on either side: the report has none, and for-hire rows record no card tips.
        assert_eq!(attr(r, "data-tlc-farebox"), "", "{class}");
        assert_eq!(attr(r, "data-our-farebox"), "", "{class}");
    }
    assert!((hv_trips as f64 / days - hv) / hv > 0.0149, "the high-volume month is the flagged one");
    // The cleaned fhv trips beside the report's sum, unflagged (cleaning is not counting).
    let cleaned = text(row(tlc, "2023-06", "FHV - Other"));
    assert!(cleaned.contains(&common_number((fhv_trips - 50) as f64 / days)), "{cleaned}");
    // What the FHV - Other figure is, from the mart's declaration, not the page's text.
    let said = text(tlc);
    assert!(
        said.contains("FHV - Other: the report's FHV - Black Car + FHV - Livery + FHV - Lux Limo."),
        "{said}"
    );
    // May: a class of the three missing, so no TLC figure for fhv, and the page says so.
    let may = row(tlc, "2023-05", "FHV - Other");
    assert_eq!(attr(may, "data-tlc-trips"), "");
    assert!(said.contains("2023-05 FHV - Other"), "listed as not in the report: {said}");
    assert_eq!(
        attr(row(tlc, "2023-05", "FHV - High Volume"), "data-tlc-trips").parse::<f64>().unwrap(),
        report_figures("2023-05", "FHV - High Volume").0
    );
}

/// A figure as the table writes it: whole, with thousands separators.
fn common_number(v: f64) -> String {
    let digits = format!("{:.0}", v);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn the_taxi_farebox_on_the_tlc_definition_subtracts_card_tips_only() {
    let mart = MartFixture::start();
    // Green June 2023 from the fixture, its recorded month set to the real report's trips;
    // $10,000 of tips on trips not paid by card stay in the farebox, as in the TLC's.
    mart.fill_month("2023-06", 1);
    load_real_indicators_month(&mart, "2023-06");
    let (trips, farebox) = report_figures("2023-06", "Green");
    let farebox = farebox.unwrap();
    let (total, card_tips) = (farebox * 30.0 + 120_000.0, 120_000.0);
    mart.sql(&format!(
        "UPDATE mart.agg_month_recorded SET trips = {}, total_amount_sum = {total}, tip_amount_sum = {}, \
                card_tip_amount_sum = {card_tips} WHERE service_id = 2 AND month_id = 202306",
        (trips * 30.0) as i64,
        card_tips + 10_000.0
    ));
    let server = ServeProcess::start(&mart.url());
    let (dom, stderr) = dump_dom(&format!("{}?period=2023-06&service=green", server.url()));
    assert!(page_errors(&stderr).is_empty(), "{stderr}");
    let page = Html::parse_document(&dom);
    let tlc = tlc_section(&page);
    let r = row(tlc, "2023-06", "Green");
    assert_eq!(attr(r, "data-tlc-farebox").parse::<f64>().unwrap(), farebox);
    let ours: f64 = attr(r, "data-our-farebox").parse().unwrap();
    assert!((ours - farebox).abs() < 1e-6, "ours {ours}, the TLC's {farebox}");
    assert_eq!(attr(r, "data-flagged"), "false", "{}", r.html());
    assert!(one(tlc, ".note.unpriced").is_none(), "{}", tlc.html());

    // A month built before the mart counted card tips: no farebox of ours on the TLC's
    // definition (not the old total − every tip), and the page says what to rebuild.
    mart.sql("UPDATE mart.agg_month_recorded SET card_tip_amount_sum = NULL WHERE service_id = 2");
    let (dom, _) = dump_dom(&format!("{}?period=2023-06&service=green", server.url()));
    let page = Html::parse_document(&dom);
    let tlc = tlc_section(&page);
    assert_eq!(attr(row(tlc, "2023-06", "Green"), "data-our-farebox"), "");
    let note = text(one(tlc, ".note.unpriced").expect("the rebuild note"));
    assert!(note.contains("atl-mart build --months rebuilds them): 2023-06 Green."), "{note}");
}

/// The real file's rows of one month back into `mart.ref_tlc_indicator`.
fn load_real_indicators_month(mart: &MartFixture, month: &str) {
    let id = month.replace('-', "");
    mart.sql(&format!("DELETE FROM mart.ref_tlc_indicator WHERE month_id = {id}"));
    for class in ["Green", "Yellow", "FHV - High Volume", "FHV - Black Car", "FHV - Livery", "FHV - Lux Limo"]
    {
        let (trips, farebox) = report_figures(month, class);
        mart.sql(&format!(
            "INSERT INTO mart.ref_tlc_indicator VALUES ({id}, '{class}', {trips}, {})",
            farebox.map_or("NULL".to_owned(), |f| f.to_string())
        ));
    }
}
