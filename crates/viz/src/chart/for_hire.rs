//! The for-hire panels: every service's share of the trips by month, and for the
//! high-volume services the wait from request to pickup by hour (median and 90th
//! percentile), the driver's pay share and the shared-ride share.

use atl_core::{MonthRange, YearMonth};
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use crate::chart::{Chart, Count, FONT, render_sized, rgb, service_ids, service_legend, slots};
use crate::error::VizError;
use crate::model::{ForHire, Service};
use crate::numbers::percent;
use crate::palette::service_colour;

const WIDTH: u32 = 660;

/// A service's rate in a month, as a line chart reads it.
struct Rate {
    service: i16,
    month: YearMonth,
    value: Option<f64>,
}

/// The panels, in page order; none when the mart holds no for-hire trip in the period.
pub fn charts(f: &ForHire, period: MonthRange, services: &[Service]) -> Result<Vec<Chart>, VizError> {
    if f.by_month.is_empty() {
        return Ok(Vec::new());
    }
    let rated = Count::trips(f.by_month.iter().map(|r| r.trips).sum());
    let waited = Count::trips(f.wait_by_hour.iter().map(|r| r.trips).sum());
    let counted = |chart: Chart, count| Chart { count, ..chart };
    Ok(vec![
        counted(
            market_share(f, period, services)?,
            Count::trips(f.trips_by_month.iter().map(|r| r.trips).sum()),
        ),
        counted(wait_by_hour(f, services)?, waited),
        counted(
            monthly_rate(
                "driver_pay_share",
                "Driver pay as a share of the base passenger fare",
                period,
                services,
                &f.by_month
                    .iter()
                    .map(|r| Rate { service: r.service, month: r.month, value: r.driver_pay_share })
                    .collect::<Vec<_>>(),
            )?,
            rated,
        ),
        counted(
            monthly_rate(
                "shared_ride_share",
                "Trips that requested a shared ride",
                period,
                services,
                &f.by_month
                    .iter()
                    .map(|r| Rate { service: r.service, month: r.month, value: r.shared_share })
                    .collect::<Vec<_>>(),
            )?,
            rated,
        ),
    ])
}

/// Each service's share of the month's trips, stacked to 100%; months without trips empty.
fn market_share(f: &ForHire, period: MonthRange, services: &[Service]) -> Result<Chart, VizError> {
    let months: Vec<YearMonth> = period.iter().collect();
    let present = service_ids(&f.trips_by_month, |r| r.service);
    let total = |m: YearMonth| f.trips_by_month.iter().filter(|r| r.month == m).map(|r| r.trips).sum::<i64>();
    let n = months.len().max(1) as i32;
    let (svg, marks) = render_sized("market_share", WIDTH, 340, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(slots(n).into_segmented(), 0f64..1.0)?;
        let label = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => usize::try_from(*i)
                .ok()
                .and_then(|i| months.get(i))
                .map(|m| m.to_string())
                .unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(months.len().clamp(1, 12))
            .x_label_formatter(&label)
            .y_label_formatter(&|y| percent(*y))
            .x_desc("Month")
            .y_desc("Share of trips")
            .label_style((FONT, 12))
            .light_line_style(WHITE)
            .axis_desc_style((FONT, 13))
            .draw()?;
        let mut marks = 0;
        let mut base = vec![0.0; months.len()];
        for id in &present {
            let mut bars = Vec::new();
            for (i, m) in months.iter().enumerate() {
                let all = total(*m);
                let trips: i64 = f
                    .trips_by_month
                    .iter()
                    .filter(|r| r.service == *id && r.month == *m)
                    .map(|r| r.trips)
                    .sum();
                if all == 0 || trips == 0 {
                    continue;
                }
                let share = trips as f64 / all as f64;
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(i as i32), base[i]),
                        (SegmentValue::Exact(i as i32 + 1), base[i] + share),
                    ],
                    rgb(service_colour(*id)).filled(),
                );
                bar.set_margin(0, 0, 6, 6);
                base[i] += share;
                bars.push(bar);
            }
            marks += bars.len();
            chart.draw_series(bars)?;
        }
        Ok(marks)
    })?;
    Ok(Chart {
        name: "market_share",
        title: "Market share by month (trips)".into(),
        svg,
        marks,
        legend: service_legend(services, |id| present.contains(&id)),
        count: None,
    })
}

/// Wait from request to pickup by pickup hour: the median as a line, the 90th percentile
/// as a thinner line of the same colour, per high-volume service.
fn wait_by_hour(f: &ForHire, services: &[Service]) -> Result<Chart, VizError> {
    let present = service_ids(&f.wait_by_hour, |r| r.service);
    let top =
        f.wait_by_hour.iter().map(|r| r.p90_sec).filter(|v| v.is_finite()).fold(60.0, f64::max) / 60.0 * 1.1;
    let (svg, marks) = render_sized("wait_by_hour", WIDTH, 340, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..23.0, 0f64..top)?;
        chart
            .configure_mesh()
            .x_labels(12)
            .x_label_formatter(&|h| format!("{h:.0}"))
            .y_label_formatter(&|m| format!("{m:.0} min"))
            .x_desc("Pickup hour (local time); thick: median, thin: 90th percentile")
            .y_desc("Wait from request")
            .label_style((FONT, 12))
            .light_line_style(WHITE)
            .axis_desc_style((FONT, 13))
            .draw()?;
        let mut marks = 0;
        for id in &present {
            let rows: Vec<_> = f.wait_by_hour.iter().filter(|r| r.service == *id).collect();
            let median: Vec<(f64, f64)> =
                rows.iter().map(|r| (f64::from(r.hour), r.median_sec / 60.0)).collect();
            let p90: Vec<(f64, f64)> = rows.iter().map(|r| (f64::from(r.hour), r.p90_sec / 60.0)).collect();
            marks += median.len();
            chart.draw_series(LineSeries::new(median, rgb(service_colour(*id)).stroke_width(3)))?;
            chart.draw_series(LineSeries::new(p90, rgb(service_colour(*id)).stroke_width(1)))?;
        }
        Ok(marks)
    })?;
    Ok(Chart {
        name: "wait_by_hour",
        title: "High-volume for-hire: wait from request to pickup".into(),
        svg,
        marks,
        legend: service_legend(services, |id| present.contains(&id)),
        count: None,
    })
}

/// A rate per service and month, as lines; a month without the figure breaks the line.
fn monthly_rate(
    name: &'static str,
    title: &str,
    period: MonthRange,
    services: &[Service],
    rows: &[Rate],
) -> Result<Chart, VizError> {
    let months: Vec<YearMonth> = period.iter().collect();
    let rows: Vec<&Rate> = rows.iter().filter(|r| r.value.is_some_and(f64::is_finite)).collect();
    let present = service_ids(&rows, |r| r.service);
    let top = rows.iter().filter_map(|r| r.value).fold(0.0, f64::max).max(0.01) * 1.1;
    let (svg, marks) = render_sized(name, WIDTH, 300, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(30)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5f64..(months.len() as f64 - 0.5), 0f64..top)?;
        chart
            .configure_mesh()
            .x_labels(months.len().clamp(1, 12))
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() > 0.01 || i < 0.0 {
                    return String::new();
                }
                months.get(i as usize).map(|m| m.to_string()).unwrap_or_default()
            })
            .y_label_formatter(&|y| percent(*y))
            .x_desc("Month")
            .label_style((FONT, 12))
            .light_line_style(WHITE)
            .axis_desc_style((FONT, 13))
            .draw()?;
        let mut marks = 0;
        for id in &present {
            // Consecutive months only: a gap in the months is a gap in the line.
            let points: Vec<(f64, f64)> = months
                .iter()
                .enumerate()
                .filter_map(|(i, m)| {
                    rows.iter()
                        .find(|r| r.service == *id && r.month == *m)
                        .and_then(|r| r.value)
                        .map(|v| (i as f64, v))
                })
                .collect();
            for run in points.chunk_by(|a, b| b.0 - a.0 == 1.0) {
                chart.draw_series(LineSeries::new(run.to_vec(), rgb(service_colour(*id)).stroke_width(2)))?;
            }
            chart
                .draw_series(points.iter().map(|p| Circle::new(*p, 3, rgb(service_colour(*id)).filled())))?;
            marks += points.len();
        }
        Ok(marks)
    })?;
    Ok(Chart {
        name,
        title: title.into(),
        svg,
        marks,
        legend: service_legend(services, |id| present.contains(&id)),
        count: None,
    })
}
