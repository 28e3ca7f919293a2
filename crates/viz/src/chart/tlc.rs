//! The TLC's own figures beside ours, as a chart: per month and licence class, the TLC's
//! trips per day, ours on the TLC's definition and ours after cleaning, side by side.

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use crate::chart::{Chart, FONT, render_sized, rgb, slots};
use crate::error::VizError;
use crate::model::{Aggregates, TlcRow};
use crate::numbers::thousands_f;
use crate::palette::{CLEANED, NEUTRAL, Rgb, TLC};

/// Trips per day, the TLC's against ours (both definitions), a group of bars per month and class.
pub fn chart(a: &Aggregates) -> Result<Chart, VizError> {
    let rows = &a.reference.tlc;
    let labels: Vec<String> =
        rows.iter().map(|r| format!("{} {}", r.month, short_class(&r.licence_class))).collect();
    let series: [(Rgb, Vec<Option<f64>>); 3] = [
        (TLC, rows.iter().map(|r| r.tlc_trips_per_day).collect()),
        (NEUTRAL, rows.iter().map(TlcRow::recorded_trips_per_day).collect()),
        (CLEANED, rows.iter().map(TlcRow::cleaned_trips_per_day).collect()),
    ];
    let n = rows.len().max(1) as i32;
    let top = series.iter().flat_map(|s| s.1.iter().flatten()).fold(0.0, |m: f64, v| m.max(*v));
    let top = if top > 0.0 { top * 1.08 } else { 1.0 };
    let (svg, marks) = render_sized("tlc_trips_per_day", 660, 340, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(slots(n).into_segmented(), 0f64..top)?;
        let label = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => {
                usize::try_from(*i).ok().and_then(|i| labels.get(i)).cloned().unwrap_or_default()
            }
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(labels.len().clamp(1, 8))
            .x_label_formatter(&label)
            .y_label_formatter(&|y| thousands_f(*y))
            .y_desc("Trips per day")
            .label_style((FONT, 12))
            .light_line_style(WHITE)
            .axis_desc_style((FONT, 13))
            .draw()?;
        let mut marks = 0;
        // Three bars side by side in each slot: plotters' segment coordinates are integers,
        // so each bar takes a third of the slot through its pixel margins.
        let slot_px = (560 / n.max(1)) as u32;
        let third = slot_px / 3;
        for (k, (colour, values)) in series.iter().enumerate() {
            let bars: Vec<Rectangle<(SegmentValue<i32>, f64)>> = values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| Some((i, (*v)?)))
                .map(|(i, v)| {
                    let mut bar = Rectangle::new(
                        [(SegmentValue::Exact(i as i32), 0.0), (SegmentValue::Exact(i as i32 + 1), v)],
                        rgb(*colour).filled(),
                    );
                    let left = (third * k as u32) + third / 8;
                    let right = slot_px.saturating_sub(third * (k as u32 + 1)) + third / 8;
                    bar.set_margin(0, 0, left, right);
                    bar
                })
                .collect();
            marks += bars.len();
            chart.draw_series(bars)?;
        }
        Ok(marks)
    })?;
    Ok(Chart {
        name: "tlc_trips_per_day",
        title: "Trips per day: the TLC's figure and ours".into(),
        svg,
        marks,
        legend: vec![
            ("TLC monthly report".into(), TLC.hex()),
            ("Ours, TLC definition (every row picked up in the month)".into(), NEUTRAL.hex()),
            ("Ours after cleaning (the fact table)".into(), CLEANED.hex()),
        ],
        count: None,
    })
}

fn short_class(class: &str) -> &str {
    match class {
        "FHV - High Volume" => "HVFHV",
        other => other,
    }
}
