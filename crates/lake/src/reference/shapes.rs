//! `taxi_zones.zip`: a zip holding `taxi_zones/taxi_zones.{shp,shx,dbf,prj}` (and macOS
//! `__MACOSX/._*` copies, which are not shapefiles). One polygon or multipolygon per record,
//! in New York State Plane feet (EPSG:2263): planar, so it is drawn as it is, y flipped.
//! LocationID 56 and 103 each appear on more than one record (the TLC's file carries 56 for
//! 57 and 103 for 104 and 105): every record is kept, under the id it carries.

use std::io::{Cursor, Read};

use shapefile::dbase::{FieldValue, Record};
use shapefile::{Shape, ShapeReader};

use super::ReferenceError;

/// One record of the shapefile.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneShape {
    /// The record's place in the file, from 1.
    pub record: i32,
    /// `LocationID` as recorded (see the module's note on 56 and 103).
    pub location_id: i32,
    pub zone: String,
    pub borough: String,
    /// Rings (outer and holes, of every part) as (x, y) in feet.
    pub rings: Vec<Vec<(f64, f64)>>,
}

fn fail(reason: impl Into<String>) -> ReferenceError {
    ReferenceError { what: "the zone shapefile", reason: reason.into() }
}

/// Reads every record of the zip's shapefile. Fails, saying why, on a file that is not a zip,
/// a zip without `.shp`/`.shx`/`.dbf`, a shape that is not a polygon, or no record at all.
pub fn read_zone_shapes(zip_bytes: &[u8]) -> Result<Vec<ZoneShape>, ReferenceError> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(zip_bytes)).map_err(|e| fail(format!("not a zip archive: {e}")))?;
    let mut member = |ext: &str| -> Result<Vec<u8>, ReferenceError> {
        let name = archive
            .file_names()
            .filter_map(|n| n.ok().map(|n| n.into_owned()))
            .filter(|n| !n.starts_with("__MACOSX/") && !n.rsplit('/').next().unwrap_or("").starts_with("._"))
            .find(|n| n.to_ascii_lowercase().ends_with(ext))
            .ok_or_else(|| fail(format!("the archive has no {ext} file")))?;
        let mut bytes = Vec::new();
        archive
            .by_name(&name)
            .map_err(|e| fail(format!("{name}: {e}")))?
            .read_to_end(&mut bytes)
            .map_err(|e| fail(format!("{name}: {e}")))?;
        Ok(bytes)
    };
    let (shp, shx, dbf) = (member(".shp")?, member(".shx")?, member(".dbf")?);
    let shapes = ShapeReader::with_shx(Cursor::new(shp), Cursor::new(shx))
        .map_err(|e| fail(format!("the .shp does not read: {e}")))?;
    let records = shapefile::dbase::Reader::new(Cursor::new(dbf))
        .map_err(|e| fail(format!("the .dbf does not read: {e}")))?;
    let mut reader = shapefile::Reader::new(shapes, records);
    let mut out = Vec::new();
    for (i, item) in reader.iter_shapes_and_records().enumerate() {
        let record = i as i32 + 1;
        let (shape, attrs) = item.map_err(|e| fail(format!("record {record}: {e}")))?;
        let rings = match shape {
            Shape::Polygon(p) => {
                p.rings().iter().map(|r| r.points().iter().map(|pt| (pt.x, pt.y)).collect()).collect()
            }
            Shape::PolygonZ(p) => {
                p.rings().iter().map(|r| r.points().iter().map(|pt| (pt.x, pt.y)).collect()).collect()
            }
            Shape::PolygonM(p) => {
                p.rings().iter().map(|r| r.points().iter().map(|pt| (pt.x, pt.y)).collect()).collect()
            }
            other => return Err(fail(format!("record {record} is a {}, not a polygon", other.shapetype()))),
        };
        let location_id = number(&attrs, "LocationID")
            .ok_or_else(|| fail(format!("record {record} has no LocationID")))?
            as i32;
        out.push(ZoneShape {
            record,
            location_id,
            zone: text(&attrs, "zone").unwrap_or_default(),
            borough: text(&attrs, "borough").unwrap_or_default(),
            rings,
        });
    }
    if out.is_empty() {
        return Err(fail("it holds no record"));
    }
    Ok(out)
}

fn field<'a>(record: &'a Record, name: &str) -> Option<&'a FieldValue> {
    // dBase field names are upper-cased by some writers.
    record.get(name).or_else(|| record.get(&name.to_uppercase()))
}

fn number(record: &Record, name: &str) -> Option<f64> {
    match field(record, name)? {
        FieldValue::Numeric(v) => *v,
        FieldValue::Integer(v) => Some(*v as f64),
        FieldValue::Double(v) => Some(*v),
        FieldValue::Float(v) => v.map(f64::from),
        FieldValue::Character(Some(s)) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(record: &Record, name: &str) -> Option<String> {
    match field(record, name)? {
        FieldValue::Character(s) => s.as_ref().map(|s| s.trim().to_owned()),
        FieldValue::Memo(s) => Some(s.trim().to_owned()),
        _ => None,
    }
}

/// How feet become map units: `unit` feet per unit, y flipped at `top` (north up), `left` at 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapFrame {
    pub left: f64,
    pub top: f64,
    pub unit: f64,
}

impl MapFrame {
    /// The frame of `shapes` with `unit` feet per map unit.
    pub fn of(shapes: &[ZoneShape], unit: f64) -> MapFrame {
        let points = || shapes.iter().flat_map(|s| s.rings.iter().flatten());
        let left = points().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let top = points().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        MapFrame { left, top, unit }
    }

    fn project(&self, (x, y): (f64, f64)) -> (i64, i64) {
        (((x - self.left) / self.unit).round() as i64, ((self.top - y) / self.unit).round() as i64)
    }
}

impl ZoneShape {
    /// An SVG path (`M x y L … Z` per ring, integer map units) and its bounding box
    /// `(min x, min y, max x, max y)`. Points that land on the previous one's map unit are
    /// dropped, then points within one map unit of the line their neighbours draw
    /// (Douglas-Peucker), so a path holds what the map can show and no more; a ring keeps at
    /// least three distinct points, so an island never vanishes.
    pub fn svg_path(&self, frame: &MapFrame) -> (String, [i64; 4]) {
        let mut path = String::new();
        let mut bbox = [i64::MAX, i64::MAX, i64::MIN, i64::MIN];
        for ring in &self.rings {
            let mut kept: Vec<(i64, i64)> = Vec::with_capacity(ring.len());
            for &p in ring {
                let q = frame.project(p);
                if kept.last() != Some(&q) {
                    kept.push(q);
                }
            }
            if kept.len() > 1 && kept.first() == kept.last() {
                kept.pop();
            }
            if kept.len() < 3 {
                continue;
            }
            let kept = simplify(&kept, 1.0);
            for (i, (x, y)) in kept.iter().enumerate() {
                path.push_str(if i == 0 { "M" } else { "L" });
                path.push_str(&format!("{x} {y}"));
                bbox = [bbox[0].min(*x), bbox[1].min(*y), bbox[2].max(*x), bbox[3].max(*y)];
            }
            path.push('Z');
        }
        (path, bbox)
    }
}

/// Douglas-Peucker over an open ring: the points farther than `tolerance` from the chord of
/// their span, recursively; never fewer than three.
fn simplify(points: &[(i64, i64)], tolerance: f64) -> Vec<(i64, i64)> {
    if points.len() <= 3 {
        return points.to_vec();
    }
    let mut keep = vec![false; points.len()];
    let (first, last) = (0, points.len() - 1);
    keep[first] = true;
    keep[last] = true;
    // The point farthest from the first splits a closed ring into two open runs.
    let far = (1..last).max_by_key(|&i| dist2(points[first], points[i])).unwrap_or(1);
    keep[far] = true;
    let mut spans = vec![(first, far), (far, last)];
    while let Some((a, b)) = spans.pop() {
        let (mut worst, mut at) = (0.0, 0);
        for i in a + 1..b {
            let d = distance_to_line(points[i], points[a], points[b]);
            if d > worst {
                (worst, at) = (d, i);
            }
        }
        if worst > tolerance {
            keep[at] = true;
            spans.push((a, at));
            spans.push((at, b));
        }
    }
    points.iter().zip(keep).filter(|(_, k)| *k).map(|(p, _)| *p).collect()
}

fn dist2(a: (i64, i64), b: (i64, i64)) -> i64 {
    (a.0 - b.0).pow(2) + (a.1 - b.1).pow(2)
}

fn distance_to_line(p: (i64, i64), a: (i64, i64), b: (i64, i64)) -> f64 {
    let (dx, dy) = ((b.0 - a.0) as f64, (b.1 - a.1) as f64);
    let length = (dx * dx + dy * dy).sqrt();
    if length == 0.0 {
        return (dist2(p, a) as f64).sqrt();
    }
    ((p.0 - a.0) as f64 * dy - (p.1 - a.1) as f64 * dx).abs() / length
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simplification_keeps_corners_and_drops_points_on_a_line() {
        // A square with points along its edges: the corners stay (and the ring's last point,
        // which the closing edge joins to the first), the points on the edges go.
        let ring = [(0, 0), (5, 0), (10, 0), (10, 5), (10, 10), (5, 10), (0, 10), (0, 5)];
        let kept = simplify(&ring, 1.0);
        assert_eq!(kept, [(0, 0), (10, 0), (10, 10), (0, 10), (0, 5)]);
        // A dent deeper than the tolerance stays.
        let dented = [(0, 0), (5, 3), (10, 0), (10, 10), (0, 10)];
        assert_eq!(simplify(&dented, 1.0).len(), 5);
        let shape = ZoneShape {
            record: 1,
            location_id: 1,
            zone: "z".into(),
            borough: "b".into(),
            rings: vec![vec![(0.0, 0.0), (0.0, 100.0), (100.0, 100.0), (100.0, 0.0), (0.0, 0.0)]],
        };
        let frame = MapFrame { left: 0.0, top: 100.0, unit: 10.0 };
        assert_eq!(shape.svg_path(&frame), ("M0 10L0 0L10 0L10 10Z".to_owned(), [0, 0, 10, 10]));
    }
}
