//! Generated reference files in the TLC's formats: the zone shapefile archive
//! (`misc/taxi_zones.zip`) and the monthly indicators CSV (`data_reports_monthly.csv`).

use std::io::{Cursor, Write};

use atl_core::YearMonth;
use shapefile::dbase::{self, FieldName, FieldValue, Record};
use shapefile::{Point, Polygon, PolygonRing};

/// Records in the TLC's shapefile: LocationID 1-263 (264 and 265 have no shape).
pub const ZONE_SHAPES: i32 = 263;
/// A zone whose shape is two islands (the real file has several multipolygons).
pub const TWO_PART_ZONE: i32 = 2;
const COLUMNS: i32 = 17;
/// Side of a zone's square, in State Plane feet.
const CELL: f64 = 9_000.0;
const ORIGIN: (f64, f64) = (913_000.0, 120_000.0);

/// A zip shaped like the TLC's `taxi_zones.zip`: `taxi_zones/taxi_zones.{shp,shx,dbf,prj}`
/// plus a macOS `__MACOSX/` resource entry, one polygon record per LocationID 1-263 (a
/// square each on a grid, in feet; [`TWO_PART_ZONE`] is two squares), with the attributes
/// OBJECTID, Shape_Leng, Shape_Area, zone, LocationID and borough (as [`crate::zone_table_csv`]).
pub fn zone_shapes_zip() -> Vec<u8> {
    let (mut shp, mut shx, mut dbf) =
        (Cursor::new(Vec::new()), Cursor::new(Vec::new()), Cursor::new(Vec::new()));
    {
        let name = |n: &str| FieldName::try_from(n).expect("a dBase field name");
        let table = dbase::TableWriterBuilder::new()
            .add_numeric_field(name("OBJECTID"), 9, 0)
            .add_numeric_field(name("Shape_Leng"), 19, 11)
            .add_numeric_field(name("Shape_Area"), 19, 11)
            .add_character_field(name("zone"), 254)
            .add_numeric_field(name("LocationID"), 4, 0)
            .add_character_field(name("borough"), 254)
            .build_with_dest(&mut dbf);
        let shapes = shapefile::ShapeWriter::with_shx(&mut shp, &mut shx);
        let mut writer = shapefile::Writer::new(shapes, table);
        for id in 1..=ZONE_SHAPES {
            let (borough, zone) = crate::zone_names(id as u32);
            let (col, row) = ((id - 1) % COLUMNS, (id - 1) / COLUMNS);
            let (x, y) = (ORIGIN.0 + col as f64 * CELL, ORIGIN.1 + row as f64 * CELL);
            let mut rings = vec![square(x, y, CELL * 0.96)];
            if id == TWO_PART_ZONE {
                // Two islands in the zone's cell.
                rings = vec![square(x, y, CELL * 0.4), square(x + CELL * 0.5, y + CELL * 0.5, CELL * 0.4)];
            }
            let mut record = Record::default();
            record.insert("OBJECTID".into(), FieldValue::Numeric(Some(id as f64)));
            record.insert("Shape_Leng".into(), FieldValue::Numeric(Some(4.0 * CELL)));
            record.insert("Shape_Area".into(), FieldValue::Numeric(Some(CELL * CELL)));
            record.insert("zone".into(), FieldValue::Character(Some(zone)));
            record.insert("LocationID".into(), FieldValue::Numeric(Some(id as f64)));
            record.insert("borough".into(), FieldValue::Character(Some(borough.to_owned())));
            writer.write_shape_and_record(&Polygon::with_rings(rings), &record).expect("writing a shape");
        }
    }
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    let mut add = |name: &str, bytes: &[u8]| {
        zip.start_file(name, options).expect("a zip entry");
        zip.write_all(bytes).expect("writing a zip entry");
    };
    add("taxi_zones/taxi_zones.shp", shp.get_ref());
    add("taxi_zones/taxi_zones.shx", shx.get_ref());
    add("taxi_zones/taxi_zones.dbf", dbf.get_ref());
    add("taxi_zones/taxi_zones.prj", b"PROJCS[\"NAD_1983_StatePlane_New_York_Long_Island_FIPS_3104_Feet\"]");
    // The real archive carries macOS resource forks, which are not shapefiles.
    add("__MACOSX/taxi_zones/._taxi_zones.shp", b"\0\x05\x16\x07junk");
    zip.finish().expect("finishing the zip").into_inner()
}

/// A clockwise (outer) square ring of side `side` from (x, y).
fn square(x: f64, y: f64, side: f64) -> PolygonRing<Point> {
    PolygonRing::Outer(vec![
        Point::new(x, y),
        Point::new(x, y + side),
        Point::new(x + side, y + side),
        Point::new(x + side, y),
        Point::new(x, y),
    ])
}

/// One row of the indicators CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorRow {
    pub month: YearMonth,
    pub licence_class: &'static str,
    pub trips_per_day: f64,
    /// `None` is written `-`, as the TLC does for the for-hire classes.
    pub farebox_per_day: Option<f64>,
}

/// `data_reports_monthly.csv` in the TLC's format: its 14 columns (the header names padded
/// with spaces when `padded`, as older releases do), CRLF, rows newest first, numbers
/// quoted with thousands separators, `-` for not applicable, `76%` for rates.
pub fn indicators_csv(rows: &[IndicatorRow], padded: bool) -> String {
    let header = [
        "Month/Year",
        "License Class",
        "Trips Per Day",
        "Farebox Per Day",
        "Unique Drivers",
        "Unique Vehicles",
        "Vehicles Per Day",
        "Avg Days Vehicles on Road",
        "Avg Hours Per Day Per Vehicle",
        "Avg Days Drivers on Road",
        "Avg Hours Per Day Per Driver",
        "Avg Minutes Per Trip",
        "Percent of Trips Paid with Credit Card",
        "Trips Per Day Shared",
    ];
    let mut csv: String = header
        .iter()
        .map(|h| if padded { format!(" {h} ") } else { (*h).to_owned() })
        .collect::<Vec<_>>()
        .join(",");
    csv.push_str("\r\n");
    let mut rows = rows.to_vec();
    rows.sort_by(|a, b| b.month.cmp(&a.month).then(a.licence_class.cmp(b.licence_class)));
    for r in &rows {
        let farebox = r.farebox_per_day.map(quoted).unwrap_or_else(|| "-".into());
        csv.push_str(&format!(
            "{},{},{},{farebox},\"1,234\",\"1,200\",600,17.5,4.0,17.0,3.9,14.2,70%,-\r\n",
            r.month,
            r.licence_class,
            quoted(r.trips_per_day)
        ));
    }
    csv
}

/// `"1,824"` (rounded, quoted when it has a separator), as the TLC writes numbers.
fn quoted(v: f64) -> String {
    let digits = (v.round() as i64).to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if out.contains(',') { format!("\"{out}\"") } else { out }
}
