//! The report's charts: the anomaly bars and one small histogram per column and month.

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use crate::chart::{FONT, horizontal_bars, render_sized, rgb, slots};
use crate::error::VizError;
use crate::model::eda::{
    ANOMALIES, Column, ColumnKind, Distribution, Eda, Histogram, ValueCount, histogram_name,
};
use crate::numbers::{compact, decimal, thousands, thousands_f};
use crate::palette::{NEUTRAL, REJECTED};

const HIST_WIDTH: u32 = 360;
const HIST_HEIGHT: u32 = 210;

/// One chart of the report.
#[derive(Debug, Clone)]
pub struct EdaChart {
    /// `anomalies`, or `hist-<column>-<YYYY-MM>`: the figure's `data-chart` and `id`.
    pub name: String,
    pub title: String,
    pub svg: String,
    /// Data marks drawn (bars): zero means an empty chart.
    pub marks: usize,
    /// A line under the chart (values outside the bins, sampling).
    pub note: String,
}

/// The anomaly chart, then every histogram, column by column, month by month.
pub fn all(eda: &Eda) -> Result<Vec<EdaChart>, VizError> {
    let mut charts = vec![anomalies(eda)?];
    for (i, column) in eda.columns.iter().enumerate() {
        for month in &eda.months {
            let name = histogram_name(&column.name, month.month);
            let sample = if month.is_sampled() {
                format!(" Sample: {} % of the pages.", decimal(month.sample_percent, 2))
            } else {
                String::new()
            };
            let (svg, marks, note) = match &month.distributions[i] {
                Distribution::Bins(h) => {
                    let (svg, marks) = histogram(column, h, month.is_sampled())?;
                    (svg, marks, format!("{}{sample}", outside_note(column, h)))
                }
                Distribution::Values(values) => {
                    let (svg, marks) = value_bars(values, month.is_sampled())?;
                    (svg, marks, sample.trim().to_owned())
                }
                Distribution::Empty => {
                    let (svg, marks) = value_bars(&[], false)?;
                    (svg, marks, "No value: every row is null.".into())
                }
            };
            charts.push(EdaChart { name, title: month.month.to_string(), svg, marks, note });
        }
    }
    Ok(charts)
}

/// Rows per anomaly over the whole report.
fn anomalies(eda: &Eda) -> Result<EdaChart, VizError> {
    let items: Vec<(String, f64)> = ANOMALIES
        .iter()
        .enumerate()
        .filter(|(k, _)| eda.applicable[*k])
        .map(|(k, a)| (a.label.to_owned(), eda.months.iter().map(|m| m.anomalies[k]).sum::<i64>() as f64))
        .collect();
    let (svg, marks) =
        horizontal_bars("anomalies", &items, REJECTED, &format!("Rows, {}", eda.period), &thousands_f)?;
    Ok(EdaChart {
        name: "anomalies".into(),
        title: format!("Anomalous rows by kind, {}", eda.period),
        svg,
        // Every kind is a bar, even at zero: the chart is not empty when the data is clean.
        marks: marks.max(1),
        note: "A row can count under several kinds.".into(),
    })
}

fn value_label(kind: ColumnKind, x: f64, lo: f64) -> String {
    match kind {
        ColumnKind::Timestamp => format!("{}", ((x - lo) / 86_400.0).floor() as i64 + 1),
        _ => compact(x),
    }
}

fn outside_note(column: &Column, h: &Histogram) -> String {
    let show = |v: f64| match column.kind {
        ColumnKind::Timestamp => chrono::DateTime::from_timestamp(v as i64, 0)
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        _ => decimal(v, 2),
    };
    let mut parts = Vec::new();
    if h.below > 0 {
        parts.push(format!("{} rows below {}", thousands(h.below), show(h.lo)));
    }
    if h.above > 0 {
        let bound = if column.kind == ColumnKind::Timestamp {
            format!("{} (next month)", show(h.hi))
        } else {
            show(h.hi)
        };
        parts.push(format!("{} rows at or above {}", thousands(h.above), bound));
    }
    if parts.is_empty() { String::new() } else { format!("Not drawn: {}.", parts.join(", ")) }
}

/// Bars over `[lo, hi)`, one per bin.
fn histogram(column: &Column, h: &Histogram, sampled: bool) -> Result<(String, usize), VizError> {
    let top = h.counts.iter().copied().max().unwrap_or(0).max(1) as f64 * 1.1;
    let width = h.width();
    let integer_bins = (width - 1.0).abs() < 1e-9 && (h.lo.fract().abs() - 0.5).abs() < 1e-9;
    let x_desc = match column.kind {
        ColumnKind::Timestamp => "Day of the month".to_owned(),
        _ => column.name.clone(),
    };
    let y_desc = if sampled { "Rows (sample)" } else { "Rows" };
    render_sized("histogram", HIST_WIDTH, HIST_HEIGHT, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(8)
            .x_label_area_size(34)
            .y_label_area_size(48)
            .build_cartesian_2d(h.lo..h.hi, 0f64..top)?;
        let x_label = |x: &f64| {
            if integer_bins && x.fract().abs() > 1e-9 {
                String::new()
            } else {
                value_label(column.kind, *x, h.lo)
            }
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(if integer_bins { h.counts.len().min(12) + 1 } else { 6 })
            .y_labels(4)
            .x_label_formatter(&x_label)
            .y_label_formatter(&|y| compact(*y))
            .x_desc(x_desc)
            .y_desc(y_desc)
            .label_style((FONT, 11))
            .light_line_style(WHITE)
            .axis_desc_style((FONT, 11))
            .draw()?;
        let gap = if h.counts.len() <= 40 { 1 } else { 0 };
        let bars: Vec<Rectangle<(f64, f64)>> = h
            .counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(i, c)| {
                let x0 = h.lo + i as f64 * width;
                let mut bar = Rectangle::new([(x0, 0.0), (x0 + width, *c as f64)], rgb(NEUTRAL).filled());
                bar.set_margin(0, 0, gap, gap);
                bar
            })
            .collect();
        let marks = bars.len();
        chart.draw_series(bars)?;
        Ok(marks)
    })
}

/// Vertical bars, one per value (text columns).
fn value_bars(values: &[ValueCount], sampled: bool) -> Result<(String, usize), VizError> {
    let n = values.len().max(1) as i32;
    let top = values.iter().map(|v| v.rows).max().unwrap_or(0).max(1) as f64 * 1.1;
    render_sized("values", HIST_WIDTH, HIST_HEIGHT, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(8)
            .x_label_area_size(34)
            .y_label_area_size(48)
            .build_cartesian_2d(slots(n).into_segmented(), 0f64..top)?;
        let label = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => usize::try_from(*i)
                .ok()
                .and_then(|i| values.get(i))
                .map(|v| v.value.clone())
                .unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(values.len().clamp(1, 12))
            .x_label_formatter(&label)
            .y_labels(4)
            .y_label_formatter(&|y| compact(*y))
            .x_desc("Value")
            .y_desc(if sampled { "Rows (sample)" } else { "Rows" })
            .label_style((FONT, 11))
            .light_line_style(WHITE)
            .axis_desc_style((FONT, 11))
            .draw()?;
        let bars: Vec<Rectangle<(SegmentValue<i32>, f64)>> = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(i as i32), 0.0),
                        (SegmentValue::Exact(i as i32 + 1), v.rows as f64),
                    ],
                    rgb(NEUTRAL).filled(),
                );
                bar.set_margin(0, 0, 8, 8);
                bar
            })
            .collect();
        let marks = bars.len();
        chart.draw_series(bars)?;
        Ok(marks)
    })
}
