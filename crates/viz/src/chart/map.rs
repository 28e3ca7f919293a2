//! The zone maps (choropleths): one shape per record of the TLC's zone shapefile, as the
//! mart stores it (`mart.ref_zone_shape`, SVG paths in map units, north up), coloured by the
//! filter's pickups per zone, and a second map by a [`Measure`]. Hand-written SVG rather than
//! plotters: the shapes are already paths, and each carries its zone and figure
//! (`data-zone`, `data-trips`, `data-value`, `data-class`) and a `<title>` tooltip.
//!
//! Zones are told apart by what is known of them: coloured by class (quantiles of the zones
//! with a figure), hatched when no trip was picked up there, pale grey when a rate rests on
//! fewer than [`MIN_TRIPS_FOR_RATE`] trips, and paler still outside a chosen borough.
//! The frame (numbers only) is written directly; each zone, whose names are text, by maud.

use std::fmt::Write;

use maud::html;

use crate::chart::Chart;
use crate::filter::Measure;
use crate::model::{Aggregates, MIN_TRIPS_FOR_RATE, ZoneMeasure, ZoneShape};
use crate::numbers::{money, percent, thousands};
use crate::palette::{
    MAP_CLASSES as CLASSES, MAP_FEW_TRIPS as FEW_TRIPS, MAP_NO_TRIPS_SWATCH as NO_TRIPS_SWATCH,
    MAP_OUTSIDE as OUTSIDE,
};

const WIDTH: f64 = 660.0;

/// A zone's state on a map.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Paint {
    Class(usize),
    NoTrips,
    FewTrips,
    Outside,
}

/// The pickups map and the measure map; both say so when the mart has no shapes.
pub fn zone_maps(a: &Aggregates) -> Vec<Chart> {
    vec![
        map(a, "zone_map_pickups", "Pickups by zone".to_owned(), |m| Some(m.trips as f64), &|v| {
            thousands(v.round() as i64)
        }),
        {
            let measure = a.filter.measure;
            let value = move |m: &ZoneMeasure| match measure {
                Measure::TipRate => (m.card_fare > 0.0).then(|| m.card_tip / m.card_fare),
                Measure::RevenuePerTrip => (m.trips > 0).then(|| m.revenue / m.trips as f64),
                Measure::Revenue => Some(m.revenue),
            };
            let format: &dyn Fn(f64) -> String = match measure {
                Measure::TipRate => &percent,
                _ => &money,
            };
            map(a, "zone_map_measure", format!("{} by pickup zone", measure.label()), value, format)
        },
    ]
}

fn map(
    a: &Aggregates,
    name: &'static str,
    title: String,
    value: impl Fn(&ZoneMeasure) -> Option<f64>,
    format: &dyn Fn(f64) -> String,
) -> Chart {
    let shapes = &a.reference.zone_shapes;
    if shapes.is_empty() {
        return no_shapes(name, title);
    }
    let ratio = name == "zone_map_measure" && a.filter.measure.is_ratio();
    let figure = |zone: i32| a.reference.zone_measures.iter().find(|m| m.zone_id == zone);
    // Class breaks: quantiles of the zones that have a figure worth showing.
    let mut values: Vec<f64> = a
        .reference
        .zone_measures
        .iter()
        .filter(|m| m.trips > 0 && (!ratio || m.trips >= MIN_TRIPS_FOR_RATE))
        .filter_map(&value)
        .collect();
    values.sort_by(f64::total_cmp);
    let breaks: Vec<f64> = (1..CLASSES.len())
        .map(|k| values.get(k * values.len() / CLASSES.len()).copied().unwrap_or(f64::INFINITY))
        .collect();
    let class_of = |v: f64| breaks.iter().filter(|b| v >= **b).count().min(CLASSES.len() - 1);
    let borough = a.filter.borough.as_deref();
    let paint = |shape: &ZoneShape| -> (Paint, Option<&ZoneMeasure>, Option<f64>) {
        if borough.is_some_and(|b| !b.eq_ignore_ascii_case(&shape.borough)) {
            return (Paint::Outside, None, None);
        }
        let Some(m) = figure(shape.zone_id).filter(|m| m.trips > 0) else {
            return (Paint::NoTrips, None, None);
        };
        if ratio && m.trips < MIN_TRIPS_FOR_RATE {
            return (Paint::FewTrips, Some(m), value(m));
        }
        match value(m) {
            Some(v) => (Paint::Class(class_of(v)), Some(m), Some(v)),
            None => (Paint::FewTrips, Some(m), None),
        }
    };

    let (mut svg, px) = frame(shapes, name);
    let mut marks = 0;
    let mut present = [false; 4];
    for shape in shapes {
        let (paint, m, v) = paint(shape);
        let (fill, class) = match paint {
            Paint::Class(k) => {
                marks += 1;
                (CLASSES[k].to_owned(), k.to_string())
            }
            Paint::NoTrips => (format!("url(#{name}-none)"), "none".to_owned()),
            Paint::FewTrips => (FEW_TRIPS.to_owned(), "few".to_owned()),
            Paint::Outside => (OUTSIDE.to_owned(), "outside".to_owned()),
        };
        present[match paint {
            Paint::Class(_) => 0,
            Paint::NoTrips => 1,
            Paint::FewTrips => 2,
            Paint::Outside => 3,
        }] = true;
        let trips = m.map(|m| m.trips).unwrap_or(0);
        let what = match (paint, v) {
            (Paint::Outside, _) => "outside the chosen borough".to_owned(),
            (Paint::NoTrips, _) => "no trips".to_owned(),
            (Paint::FewTrips, _) => format!("{} trips, too few for a rate", thousands(trips)),
            (_, Some(v)) if name == "zone_map_pickups" => format!("{} trips", format(v)),
            (_, Some(v)) => format!("{} ({} trips)", format(v), thousands(trips)),
            (_, None) => String::new(),
        };
        // The zone's names are the mart's text: maud escapes them.
        let path = html! {
            path d=(shape.svg_path) fill=(fill) stroke="#7f8a96" stroke-width=(0.6 * px) stroke-linejoin="round"
                data-zone=(shape.zone_id) data-trips=(trips) data-value=(v.map(|v| v.to_string()).unwrap_or_default())
                data-class=(class) {
                title { (shape.zone) " (" (shape.borough) ", zone " (shape.zone_id) "): " (what) }
            }
        };
        svg.push_str(&path.into_string());
    }
    svg.push_str("</svg>");

    // The legend: one swatch per class drawn, with its range, then the states.
    let mut legend: Vec<(String, String)> = Vec::new();
    if present[0] {
        let mut lower = values.first().copied().unwrap_or(0.0);
        for (k, colour) in CLASSES.iter().enumerate() {
            let in_class: Vec<f64> = values.iter().copied().filter(|v| class_of(*v) == k).collect();
            let (Some(lo), Some(hi)) = (in_class.first(), in_class.last()) else { continue };
            lower = lower.max(*lo);
            legend.push((format!("{} – {}", format(lower), format(*hi)), (*colour).to_owned()));
        }
    }
    if present[1] {
        legend.push(("No trips".into(), NO_TRIPS_SWATCH.into()));
    }
    if present[2] {
        legend.push((format!("Fewer than {MIN_TRIPS_FOR_RATE} trips"), FEW_TRIPS.into()));
    }
    if present[3] {
        legend.push((format!("Outside {}", borough.unwrap_or("")), OUTSIDE.into()));
    }
    Chart { name, title, svg, marks, legend, count: None }
}

/// A map's chart when the mart has no zone shapes: a line saying what to run.
pub(crate) fn no_shapes(name: &'static str, title: String) -> Chart {
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"80\" viewBox=\"0 0 {WIDTH} 80\">\
         <rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/><text x=\"12\" y=\"44\" font-family=\"sans-serif\" font-size=\"14\">\
         No zone shapes in the mart: run atl-ingest --zones, then atl-mart build.</text></svg>"
    );
    Chart { name, title, svg, marks: 0, legend: Vec::new(), count: None }
}

/// The start of a map's SVG around every shape (north up, [`WIDTH`] px wide): the no-trips
/// hatch (`url(#{name}-none)`) and a white ground; and the map units per screen pixel, so
/// strokes keep their on-screen width.
pub(crate) fn frame(shapes: &[ZoneShape], name: &str) -> (String, f64) {
    let (x0, y0) = (
        shapes.iter().map(|s| s.min_x).min().unwrap_or(0),
        shapes.iter().map(|s| s.min_y).min().unwrap_or(0),
    );
    let (x1, y1) = (
        shapes.iter().map(|s| s.max_x).max().unwrap_or(1),
        shapes.iter().map(|s| s.max_y).max().unwrap_or(1),
    );
    let (w, h) = ((x1 - x0).max(1) as f64, (y1 - y0).max(1) as f64);
    let height = (WIDTH * h / w).round();
    // Map units per screen pixel: strokes and hatches keep their on-screen size.
    let px = w / WIDTH;
    let mut svg = String::with_capacity(shapes.iter().map(|s| s.svg_path.len() + 200).sum());
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"{x0} {y0} {w} {h}\" data-map=\"{name}\">\
         <defs><pattern id=\"{name}-none\" patternUnits=\"userSpaceOnUse\" width=\"{hatch}\" height=\"{hatch}\" patternTransform=\"rotate(45)\">\
         <rect width=\"{hatch}\" height=\"{hatch}\" fill=\"#ffffff\"/><rect width=\"{line}\" height=\"{hatch}\" fill=\"#b0b0b0\"/></pattern></defs>\
         <rect x=\"{x0}\" y=\"{y0}\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>",
        hatch = 4.0 * px,
        line = 1.0 * px,
    );
    (svg, px)
}
