//! The charts, drawn with plotters into SVG strings from the model. Text stays `<text>`
//! (plotters' SVG backend without the `ttf` feature), so the browser draws the glyphs; the
//! PNG exports ([`crate::png`]) draw them with resvg and an embedded font.
//!
//! Here the primitives every chart uses (the drawing area, stacked month bars, horizontal
//! bars); the dashboard's panels in [`dashboard`], [`for_hire`], [`map`], [`market`] and [`tlc`], the
//! EDA report's in [`eda`].

pub mod dashboard;
pub mod eda;
pub mod for_hire;
pub mod map;
pub mod market;
pub mod tlc;

use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use crate::error::VizError;
use crate::model::{Aggregates, Service};
use crate::palette::{NO_DATA, Rgb, service_colour};

pub use eda::EdaChart;

/// The font family the charts name; the PNG exports map every family to their embedded font.
pub const FONT: &str = "sans-serif";
const WIDTH: u32 = 660;

/// One chart of the page.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Stable machine name: the figure's `data-chart` (and, prefixed, its `id`).
    pub name: &'static str,
    pub title: String,
    pub svg: String,
    /// Data marks drawn (bars, cells, line points): zero means an empty chart.
    pub marks: usize,
    /// Series shown in a legend above the chart, with their `#rrggbb` colour; empty when one
    /// colour says it all.
    pub legend: Vec<(String, String)>,
    /// What the chart's marks add up to (the trips of a trips chart, the dollars of a revenue
    /// chart), so that a reader, or a test, can set it against the mart; `None` where the
    /// marks are ratios of nothing countable.
    pub count: Option<Count>,
}

/// A chart's marks summed: `value` of `of` (`trips`, `dollars`, `rows`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Count {
    pub of: &'static str,
    pub value: f64,
}

impl Count {
    pub fn trips(value: i64) -> Option<Count> {
        Some(Count { of: "trips", value: value as f64 })
    }
}

/// A palette colour as plotters takes it.
pub(crate) fn rgb(c: Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

/// The integer range whose segments hold `n` bars: a segmented range has one segment per
/// value, ends included, so 0..n-1; a single bar gets an empty slot each side (a range of
/// one value has no width) and so stays centred.
pub(crate) fn slots(n: i32) -> std::ops::Range<i32> {
    if n <= 1 { -1..1 } else { 0..n - 1 }
}

pub(crate) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
pub(crate) type DrawResult = Result<usize, DrawingAreaErrorKind<std::io::Error>>;

pub(crate) fn render(
    name: &'static str,
    height: u32,
    draw: impl FnOnce(&Area<'_>) -> DrawResult,
) -> Result<(String, usize), VizError> {
    render_sized(name, WIDTH, height, draw)
}

/// An SVG of `width` × `height` drawn by `draw`, which returns the data marks it drew.
pub(crate) fn render_sized(
    name: &'static str,
    width: u32,
    height: u32,
    draw: impl FnOnce(&Area<'_>) -> DrawResult,
) -> Result<(String, usize), VizError> {
    let mut svg = String::new();
    let marks = {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let fail =
            |e: DrawingAreaErrorKind<std::io::Error>| VizError::Chart { chart: name, message: e.to_string() };
        root.fill(&WHITE).map_err(fail)?;
        let marks = draw(&root).map_err(fail)?;
        root.present().map_err(fail)?;
        marks
    };
    Ok((svg, marks))
}

/// Every chart of the dashboard: the zone maps, the main charts, the TLC comparison, then the
/// data-quality ones ([`crate::page`] places each in its section).
pub fn all(a: &Aggregates) -> Result<Vec<Chart>, VizError> {
    let mut charts = map::zone_maps(a);
    // Shares need two sides to compare; with one the page says so instead.
    if a.market.rivals.len() > 1 {
        charts.push(market::zone_map(a));
    }
    charts.extend([dashboard::trips_per_day(a)?, dashboard::revenue_by_month(a)?]);
    // The services side by side, after the charts every service has.
    charts.extend(for_hire::charts(&a.for_hire, a.period, &a.services)?);
    charts.extend([
        dashboard::hour_weekday(a)?,
        dashboard::top_zones(a)?,
        dashboard::payment_share(a)?,
        dashboard::tip_rate_by_borough(a)?,
        dashboard::fare_by_distance(a)?,
        tlc::chart(a)?,
        dashboard::rows_by_month(a)?,
        dashboard::rejects_by_reason(a)?,
    ]);
    Ok(charts)
}

/// The legend of the services `present` says are drawn, in `services` order.
pub(crate) fn service_legend(services: &[Service], present: impl Fn(i16) -> bool) -> Vec<(String, String)> {
    services
        .iter()
        .filter(|s| present(s.id))
        .map(|s| (s.display_name(), service_colour(s.id).hex()))
        .collect()
}

/// The distinct service ids of `rows`, sorted.
pub(crate) fn service_ids<T>(rows: &[T], id: impl Fn(&T) -> i16) -> Vec<i16> {
    let mut ids: Vec<i16> = rows.iter().map(id).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Stacked bars over months: each series a colour, each month a bar.
pub(crate) fn month_bars(
    name: &'static str,
    months: &[String],
    no_data: &[bool],
    series: &[(Rgb, Vec<f64>)],
    y_desc: &str,
    y_label: &dyn Fn(f64) -> String,
) -> Result<(String, usize), VizError> {
    let n = months.len().max(1) as i32;
    let top = (0..months.len()).map(|i| series.iter().map(|s| s.1[i]).sum::<f64>()).fold(0.0, f64::max);
    let top = if top > 0.0 { top * 1.08 } else { 1.0 };
    render(name, 340, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(95)
            .build_cartesian_2d(slots(n).into_segmented(), 0f64..top)?;
        let month_label = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => {
                usize::try_from(*i).ok().and_then(|i| months.get(i)).cloned().unwrap_or_default()
            }
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(months.len().clamp(1, 12))
            .x_label_formatter(&month_label)
            .y_label_formatter(&|y| y_label(*y))
            .x_desc("Month")
            .y_desc(y_desc)
            .label_style((FONT, 12))
            .light_line_style(WHITE)
            .axis_desc_style((FONT, 13))
            .draw()?;
        // Bars keep a gap between them at any count: a fixed margin wider than the slot
        // (59 months on 540 px) would leave no bar at all.
        let slot_px = 540 / n.max(1) as u32;
        let gap = (slot_px / 6).min(6);
        let bands: Vec<Rectangle<(SegmentValue<i32>, f64)>> = no_data
            .iter()
            .enumerate()
            .filter(|(_, missing)| **missing)
            .map(|(i, _)| {
                Rectangle::new(
                    [(SegmentValue::Exact(i as i32), 0.0), (SegmentValue::Exact(i as i32 + 1), top)],
                    rgb(NO_DATA).filled(),
                )
            })
            .collect();
        chart.draw_series(bands)?;
        let mut marks = 0;
        let mut base = vec![0.0; months.len()];
        for (colour, values) in series {
            let bars: Vec<Rectangle<(SegmentValue<i32>, f64)>> = values
                .iter()
                .enumerate()
                .filter(|(_, v)| **v > 0.0)
                .map(|(i, v)| {
                    let mut bar = Rectangle::new(
                        [
                            (SegmentValue::Exact(i as i32), base[i]),
                            (SegmentValue::Exact(i as i32 + 1), base[i] + v),
                        ],
                        rgb(*colour).filled(),
                    );
                    bar.set_margin(0, 0, gap, gap);
                    bar
                })
                .collect();
            for (i, v) in values.iter().enumerate() {
                base[i] += v;
            }
            marks += bars.len();
            chart.draw_series(bars)?;
        }
        Ok(marks)
    })
}

/// Horizontal bars, the first item on top.
pub(crate) fn horizontal_bars(
    name: &'static str,
    items: &[(String, f64)],
    colour: Rgb,
    x_desc: &str,
    x_label: &dyn Fn(f64) -> String,
) -> Result<(String, usize), VizError> {
    let n = items.len().max(1) as i32;
    let top = items.iter().map(|i| i.1).fold(0.0, f64::max);
    let top = if top > 0.0 { top * 1.08 } else { 1.0 };
    let height = 90 + 24 * n as u32;
    render(name, height.max(200), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(190)
            .build_cartesian_2d(0f64..top, slots(n).into_segmented())?;
        let label = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(row) => usize::try_from(n - 1 - row)
                .ok()
                .and_then(|i| items.get(i))
                .map(|i| i.0.clone())
                .unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(items.len().max(1))
            .y_label_formatter(&label)
            .x_labels(6)
            .x_label_formatter(&|x| x_label(*x))
            .x_desc(x_desc)
            .label_style((FONT, 12))
            .light_line_style(WHITE)
            .axis_desc_style((FONT, 13))
            .draw()?;
        let bars: Vec<Rectangle<(f64, SegmentValue<i32>)>> = items
            .iter()
            .enumerate()
            .map(|(i, (_, v))| {
                let row = n - 1 - i as i32;
                let mut bar = Rectangle::new(
                    [(0.0, SegmentValue::Exact(row)), (*v, SegmentValue::Exact(row + 1))],
                    rgb(colour).filled(),
                );
                bar.set_margin(3, 3, 0, 0);
                bar
            })
            .collect();
        let marks = bars.len();
        chart.draw_series(bars)?;
        Ok(marks)
    })
}
