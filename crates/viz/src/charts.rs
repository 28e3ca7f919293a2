//! The dashboard's charts, drawn with plotters into SVG strings. Text stays `<text>`
//! (plotters' SVG backend without the `ttf` feature), so the browser draws the glyphs; the
//! PNG exports ([`crate::png`]) draw them with resvg and an embedded font.

use chrono::Duration;
use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use crate::error::VizError;
use crate::mart::{Aggregates, Service};
use crate::numbers::{money, percent, thousands_f};

/// Yellow cabs, the colour of the cars.
pub const YELLOW: RGBColor = RGBColor(0xf2, 0xb7, 0x05);
/// Green (boro) cabs.
pub const GREEN: RGBColor = RGBColor(0x2e, 0x9e, 0x5b);
/// Charts that mix both services.
pub(crate) const NEUTRAL: RGBColor = RGBColor(0x4a, 0x6f, 0xa5);
pub(crate) const REJECTED: RGBColor = RGBColor(0xc0, 0x39, 0x2b);
/// Months the mart holds nothing for: a pale band, so a gap reads as a gap.
pub(crate) const NO_DATA: RGBColor = RGBColor(0xee, 0xee, 0xee);
/// Services after yellow and green (the for-hire ones), by id, distinct from both.
const OTHER_SERVICES: [RGBColor; 6] = [
    RGBColor(0x4a, 0x6f, 0xa5),
    RGBColor(0xc2, 0x18, 0x7a),
    RGBColor(0x33, 0x33, 0x33),
    RGBColor(0x8e, 0x5a, 0xc8),
    RGBColor(0xd3, 0x6b, 0x1f),
    RGBColor(0x1b, 0x9a, 0xaa),
];
pub(crate) const FONT: &str = "sans-serif";
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
}

/// The colour of a service, the same on every chart (ids of sql/mart/migrations: 3 other
/// FHV, 4 HVFHV without licence, 5 Juno, 6 Uber, 7 Via, 8 Lyft; later licences grey).
pub fn service_colour(service_id: i16) -> RGBColor {
    match service_id {
        1 => YELLOW,
        2 => GREEN,
        3 => RGBColor(0x8e, 0x5b, 0xa8),
        5 => RGBColor(0x1f, 0x9e, 0xa8),
        6 => RGBColor(0x22, 0x22, 0x22),
        7 => RGBColor(0x3c, 0x6e, 0xe0),
        8 => RGBColor(0xff, 0x00, 0xbf),
        id => OTHER_SERVICES[(id.max(3) - 3) as usize % OTHER_SERVICES.len()],
    }
}

pub fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// The integer range whose segments hold `n` bars: a segmented range has one segment per
/// value, ends included, so 0..n-1; a single bar gets an empty slot each side (a range of
/// one value has no width) and so stays centred.
pub(crate) fn slots(n: i32) -> std::ops::Range<i32> {
    if n <= 1 { -1..1 } else { 0..n - 1 }
}

pub(crate) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
pub(crate) type DrawResult = Result<usize, DrawingAreaErrorKind<std::io::Error>>;

fn render(
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
    let mut charts = crate::map::zone_maps(a);
    charts.extend([trips_per_day(a)?, revenue_by_month(a)?]);
    // The services side by side, after the charts every service has.
    charts.extend(a.for_hire.charts(a.period, &a.services)?);
    charts.extend([
        hour_weekday(a)?,
        top_zones(a)?,
        payment_share(a)?,
        tip_rate_by_borough(a)?,
        fare_by_distance(a)?,
        crate::tlc::chart(a)?,
        rows_by_month(a)?,
        rejects_by_reason(a)?,
    ]);
    Ok(charts)
}

fn service_legend(services: &[Service], present: impl Fn(i16) -> bool) -> Vec<(String, String)> {
    services.iter().filter(|s| present(s.id)).map(|s| (s.display_name(), hex(service_colour(s.id)))).collect()
}

fn service_ids<T>(rows: &[T], id: impl Fn(&T) -> i16) -> Vec<i16> {
    let mut ids: Vec<i16> = rows.iter().map(id).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Daily trips, one line per service.
pub fn trips_per_day(a: &Aggregates) -> Result<Chart, VizError> {
    let start = a.period.first().first_day();
    let days = (a.period.last().next().first_day() - start).num_days() as f64;
    let max = a.daily.iter().map(|r| r.2).max().unwrap_or(1).max(1) as f64;
    let ids = service_ids(&a.daily, |r| r.0);
    let (svg, marks) = render("trips_per_day", 360, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            // Room on the right for the last date label, centred on the last day.
            .margin_right(40)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(0f64..(days - 1.0).max(1.0), 0f64..max * 1.08)?;
        let day_label = |x: &f64| (start + Duration::days(x.round() as i64)).format("%Y-%m-%d").to_string();
        chart
            .configure_mesh()
            .x_labels(7)
            .x_label_formatter(&day_label)
            .y_label_formatter(&|y| thousands_f(*y))
            .x_desc("Pickup day")
            .y_desc("Trips per day")
            .label_style((FONT, 12))
            .light_line_style(WHITE)
            .axis_desc_style((FONT, 13))
            .draw()?;
        // Months without a day of data: a band each, behind the lines.
        let with_data = a.months_with_data();
        let bands: Vec<Rectangle<(f64, f64)>> = a
            .period
            .iter()
            .filter(|m| !with_data.contains(m))
            .map(|m| {
                let x0 = (m.first_day() - start).num_days() as f64 - 0.5;
                let x1 = (m.next().first_day() - start).num_days() as f64 - 0.5;
                Rectangle::new([(x0, 0.0), (x1, max * 1.08)], NO_DATA.filled())
            })
            .collect();
        chart.draw_series(bands)?;
        let mut marks = 0;
        for id in &ids {
            let points: Vec<(f64, f64)> = a
                .daily
                .iter()
                .filter(|r| r.0 == *id)
                .map(|r| ((r.1 - start).num_days() as f64, r.2 as f64))
                .collect();
            marks += points.len();
            // A line only joins consecutive days: a missing day or month is a break, not a
            // straight line across it; a day alone is a dot.
            for run in points.chunk_by(|a, b| b.0 - a.0 == 1.0) {
                let colour = service_colour(*id);
                if run.len() == 1 {
                    chart.draw_series(std::iter::once(Circle::new(run[0], 2, colour.filled())))?;
                } else {
                    chart.draw_series(LineSeries::new(run.iter().copied(), colour.stroke_width(2)))?;
                }
            }
        }
        Ok(marks)
    })?;
    let mut legend = service_legend(&a.services, |id| ids.contains(&id));
    if a.months_with_data().len() < a.period.len() {
        legend.push(("No data in the mart".into(), hex(NO_DATA)));
    }
    Ok(Chart { name: "trips_per_day", title: "Trips per day".into(), svg, marks, legend })
}

/// Stacked bars over months: each series a colour, each month a bar.
fn month_bars(
    name: &'static str,
    months: &[String],
    no_data: &[bool],
    series: &[(RGBColor, Vec<f64>)],
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
                    NO_DATA.filled(),
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
                        colour.filled(),
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

/// Revenue per month, stacked by service.
pub fn revenue_by_month(a: &Aggregates) -> Result<Chart, VizError> {
    let months: Vec<String> = a.period.iter().map(|m| m.to_string()).collect();
    let ids = service_ids(&a.revenue_by_month, |r| r.0);
    let series: Vec<(RGBColor, Vec<f64>)> = ids
        .iter()
        .map(|id| {
            let values = a
                .period
                .iter()
                .map(|m| a.revenue_by_month.iter().filter(|r| r.0 == *id && r.1 == m).map(|r| r.2).sum())
                .collect();
            (service_colour(*id), values)
        })
        .collect();
    let with_data = a.months_with_data();
    let no_data: Vec<bool> = a.period.iter().map(|m| !with_data.contains(&m)).collect();
    let (svg, marks) = month_bars("revenue_by_month", &months, &no_data, &series, "Revenue (US$)", &money)?;
    let mut legend = service_legend(&a.services, |id| ids.contains(&id));
    if no_data.contains(&true) {
        legend.push(("No data in the mart".into(), hex(NO_DATA)));
    }
    Ok(Chart { name: "revenue_by_month", title: "Revenue by month".into(), svg, marks, legend })
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Trips by pickup hour and weekday, Monday on top.
pub fn hour_weekday(a: &Aggregates) -> Result<Chart, VizError> {
    let max = a.hour_weekday.iter().map(|r| r.2).max().unwrap_or(1).max(1) as f64;
    let (svg, marks) = render("hour_weekday", 300, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d((0..23).into_segmented(), (0..6).into_segmented())?;
        let hour = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(h) => format!("{h}"),
            _ => String::new(),
        };
        let weekday = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(row) => {
                usize::try_from(6 - *row).ok().and_then(|i| WEEKDAYS.get(i)).copied().unwrap_or("").to_owned()
            }
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(24)
            .y_labels(7)
            .x_label_formatter(&hour)
            .y_label_formatter(&weekday)
            .x_desc("Pickup hour (local time)")
            .label_style((FONT, 12))
            .light_line_style(WHITE)
            .axis_desc_style((FONT, 13))
            .draw()?;
        let cells: Vec<Rectangle<(SegmentValue<i32>, SegmentValue<i32>)>> = a
            .hour_weekday
            .iter()
            .filter(|r| (1..=7).contains(&r.0) && (0..24).contains(&r.1))
            .map(|&(weekday, hour, trips)| {
                let row = 7 - weekday as i32;
                let h = hour as i32;
                let mut cell = Rectangle::new(
                    [
                        (SegmentValue::Exact(h), SegmentValue::Exact(row)),
                        (SegmentValue::Exact(h + 1), SegmentValue::Exact(row + 1)),
                    ],
                    heat(trips as f64 / max).filled(),
                );
                cell.set_margin(1, 1, 1, 1);
                cell
            })
            .collect();
        let marks = cells.len();
        chart.draw_series(cells)?;
        Ok(marks)
    })?;
    Ok(Chart {
        name: "hour_weekday",
        title: format!("Demand by hour and weekday (darkest: {} trips)", thousands_f(max)),
        svg,
        marks,
        legend: Vec::new(),
    })
}

/// Light to dark blue, `t` in 0..=1.
fn heat(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0).sqrt();
    let mix = |from: u8, to: u8| (from as f64 + (to as f64 - from as f64) * t).round() as u8;
    RGBColor(mix(0xee, 0x08), mix(0xf3, 0x30), mix(0xfa, 0x6b))
}

/// Horizontal bars, the first item on top.
pub(crate) fn horizontal_bars(
    name: &'static str,
    items: &[(String, f64)],
    colour: RGBColor,
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
                    colour.filled(),
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

/// The 15 busiest pickup zones.
pub fn top_zones(a: &Aggregates) -> Result<Chart, VizError> {
    let items: Vec<(String, f64)> = a.top_zones.iter().map(|(z, t)| (z.clone(), *t as f64)).collect();
    let (svg, marks) = horizontal_bars("top_zones", &items, NEUTRAL, "Trips", &thousands_f)?;
    Ok(Chart { name: "top_zones", title: "Top 15 pickup zones".into(), svg, marks, legend: Vec::new() })
}

/// Share of trips by payment type.
pub fn payment_share(a: &Aggregates) -> Result<Chart, VizError> {
    let total: i64 = a.payment_share.iter().map(|p| p.1).sum();
    let items: Vec<(String, f64)> =
        a.payment_share.iter().map(|(p, t)| (p.clone(), *t as f64 / total.max(1) as f64)).collect();
    let (svg, marks) = horizontal_bars("payment_share", &items, NEUTRAL, "Share of trips (%)", &percent)?;
    Ok(Chart { name: "payment_share", title: "Payment types".into(), svg, marks, legend: Vec::new() })
}

/// Card tip rate by pickup borough.
pub fn tip_rate_by_borough(a: &Aggregates) -> Result<Chart, VizError> {
    use crate::mart::MIN_TRIPS_FOR_RATE;
    let (items, thin): (Vec<_>, Vec<_>) =
        a.tip_rate_by_borough.iter().partition(|r| r.2 >= MIN_TRIPS_FOR_RATE);
    let items: Vec<(String, f64)> = items.into_iter().map(|(b, r, _)| (b.clone(), *r)).collect();
    let (svg, marks) =
        horizontal_bars("tip_rate_by_borough", &items, NEUTRAL, "Tips / fares, card payments (%)", &percent)?;
    let mut title = "Tip rate by pickup borough (card payments)".to_owned();
    if !thin.is_empty() {
        let names: Vec<String> = thin.iter().map(|(b, _, t)| format!("{b}, {t} trips")).collect();
        title.push_str(&format!("; left out, fewer than {MIN_TRIPS_FOR_RATE} trips: {}", names.join("; ")));
    }
    Ok(Chart { name: "tip_rate_by_borough", title, svg, marks, legend: Vec::new() })
}

/// Average fare per 0.5-mile distance bin, one line per service.
pub fn fare_by_distance(a: &Aggregates) -> Result<Chart, VizError> {
    let max_x = a.fare_by_distance.iter().map(|r| r.1).fold(1.0, f64::max);
    let max_y = a.fare_by_distance.iter().map(|r| r.2).fold(1.0, f64::max);
    let ids = service_ids(&a.fare_by_distance, |r| r.0);
    let (svg, marks) = render("fare_by_distance", 360, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..max_x + 0.5, 0f64..max_y * 1.08)?;
        chart
            .configure_mesh()
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("${y:.0}"))
            .x_desc("Trip distance (miles, 0.5-mile bins)")
            .y_desc("Average fare (US$)")
            .label_style((FONT, 12))
            .light_line_style(WHITE)
            .axis_desc_style((FONT, 13))
            .draw()?;
        let mut marks = 0;
        for id in &ids {
            let points: Vec<(f64, f64)> =
                a.fare_by_distance.iter().filter(|r| r.0 == *id).map(|r| (r.1, r.2)).collect();
            marks += points.len();
            chart.draw_series(LineSeries::new(points, service_colour(*id).stroke_width(2)))?;
        }
        Ok(marks)
    })?;
    Ok(Chart {
        name: "fare_by_distance",
        title: "Fare against distance".into(),
        svg,
        marks,
        legend: service_legend(&a.services, |id| ids.contains(&id)),
    })
}

/// Data quality: rows kept and rejected per built month, over the whole mart.
pub fn rows_by_month(a: &Aggregates) -> Result<Chart, VizError> {
    let (Some(first), Some(last)) = (a.rows_by_month.first(), a.rows_by_month.last()) else {
        let (svg, marks) = month_bars("rows_by_month", &[], &[], &[], "Rows", &thousands_f)?;
        return Ok(Chart {
            name: "rows_by_month",
            title: "Rows loaded per month".into(),
            svg,
            marks,
            legend: Vec::new(),
        });
    };
    // Every month between the first and last build, so a missing month shows as a gap.
    let months: Vec<atl_core::YearMonth> =
        atl_core::MonthRange::new(first.0, last.0).map(|r| r.iter().collect()).unwrap_or_default();
    let value = |m: &atl_core::YearMonth, pick: fn(&(atl_core::YearMonth, i64, i64)) -> i64| {
        a.rows_by_month.iter().find(|r| r.0 == *m).map(pick).unwrap_or(0) as f64
    };
    let kept: Vec<f64> = months.iter().map(|m| value(m, |r| r.1)).collect();
    let rejected: Vec<f64> = months.iter().map(|m| value(m, |r| r.2)).collect();
    let labels: Vec<String> = months.iter().map(|m| m.to_string()).collect();
    let no_data: Vec<bool> = months.iter().map(|m| !a.rows_by_month.iter().any(|r| r.0 == *m)).collect();
    let (svg, marks) = month_bars(
        "rows_by_month",
        &labels,
        &no_data,
        &[(NEUTRAL, kept), (REJECTED, rejected)],
        "Rows",
        &thousands_f,
    )?;
    let mut legend =
        vec![("Kept in the fact table".into(), hex(NEUTRAL)), ("Rejected".into(), hex(REJECTED))];
    if no_data.contains(&true) {
        legend.push(("Not built".into(), hex(NO_DATA)));
    }
    let services =
        if a.filter.services.is_empty() { "all services".to_owned() } else { a.filter.services.join(", ") };
    Ok(Chart {
        name: "rows_by_month",
        title: format!("Rows loaded per month ({services})"),
        svg,
        marks,
        legend,
    })
}

/// Data quality: rejected rows by reason in the period.
pub fn rejects_by_reason(a: &Aggregates) -> Result<Chart, VizError> {
    let items: Vec<(String, f64)> = a.rejects.iter().map(|(r, n)| (r.clone(), *n as f64)).collect();
    let (svg, marks) = horizontal_bars("rejects_by_reason", &items, REJECTED, "Rejected rows", &thousands_f)?;
    Ok(Chart {
        name: "rejects_by_reason",
        title: "Rejected rows by reason".into(),
        svg,
        marks,
        legend: Vec::new(),
    })
}
