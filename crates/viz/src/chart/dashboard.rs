//! The dashboard's own panels: trips per day, revenue by month, demand by hour and weekday,
//! the busiest zones, payment types, tip rate by borough, fare against distance, and the
//! data-quality charts.

use chrono::Duration;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use crate::chart::{
    Chart, Count, FONT, horizontal_bars, month_bars, render, rgb, service_ids, service_legend,
};
use crate::error::VizError;
use crate::model::{Aggregates, MIN_TRIPS_FOR_RATE, MonthRows};
use crate::numbers::{money, percent, thousands_f};
use crate::palette::{NEUTRAL, NO_DATA, REJECTED, Rgb, heat, service_colour};

/// Daily trips, one line per service.
pub fn trips_per_day(a: &Aggregates) -> Result<Chart, VizError> {
    let start = a.period.first().first_day();
    let days = (a.period.last().next().first_day() - start).num_days() as f64;
    let max = a.daily.iter().map(|r| r.trips).max().unwrap_or(1).max(1) as f64;
    let ids = service_ids(&a.daily, |r| r.service);
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
                Rectangle::new([(x0, 0.0), (x1, max * 1.08)], rgb(NO_DATA).filled())
            })
            .collect();
        chart.draw_series(bands)?;
        let mut marks = 0;
        for id in &ids {
            let points: Vec<(f64, f64)> = a
                .daily
                .iter()
                .filter(|r| r.service == *id)
                .map(|r| ((r.day - start).num_days() as f64, r.trips as f64))
                .collect();
            marks += points.len();
            // A line only joins consecutive days: a missing day or month is a break, not a
            // straight line across it; a day alone is a dot.
            for run in points.chunk_by(|a, b| b.0 - a.0 == 1.0) {
                let colour = rgb(service_colour(*id));
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
        legend.push(("No data in the mart".into(), NO_DATA.hex()));
    }
    Ok(Chart {
        name: "trips_per_day",
        title: "Trips per day".into(),
        svg,
        marks,
        legend,
        count: Count::trips(a.daily.iter().map(|r| r.trips).sum()),
    })
}

/// Revenue per month, stacked by service.
pub fn revenue_by_month(a: &Aggregates) -> Result<Chart, VizError> {
    let months: Vec<String> = a.period.iter().map(|m| m.to_string()).collect();
    let ids = service_ids(&a.revenue_by_month, |r| r.service);
    let series: Vec<(Rgb, Vec<f64>)> = ids
        .iter()
        .map(|id| {
            let values = a
                .period
                .iter()
                .map(|m| {
                    a.revenue_by_month
                        .iter()
                        .filter(|r| r.service == *id && r.month == m)
                        .map(|r| r.revenue)
                        .sum()
                })
                .collect();
            (service_colour(*id), values)
        })
        .collect();
    let with_data = a.months_with_data();
    let no_data: Vec<bool> = a.period.iter().map(|m| !with_data.contains(&m)).collect();
    let (svg, marks) = month_bars("revenue_by_month", &months, &no_data, &series, "Revenue (US$)", &money)?;
    let mut legend = service_legend(&a.services, |id| ids.contains(&id));
    if no_data.contains(&true) {
        legend.push(("No data in the mart".into(), NO_DATA.hex()));
    }
    Ok(Chart {
        name: "revenue_by_month",
        title: "Revenue by month".into(),
        svg,
        marks,
        legend,
        count: Some(Count { of: "dollars", value: a.revenue_by_month.iter().map(|r| r.revenue).sum() }),
    })
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Trips by pickup hour and weekday, Monday on top.
pub fn hour_weekday(a: &Aggregates) -> Result<Chart, VizError> {
    let max = a.hour_weekday.iter().map(|r| r.trips).max().unwrap_or(1).max(1) as f64;
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
            .filter(|r| (1..=7).contains(&r.weekday) && (0..24).contains(&r.hour))
            .map(|r| {
                let row = 7 - r.weekday as i32;
                let h = r.hour as i32;
                let mut cell = Rectangle::new(
                    [
                        (SegmentValue::Exact(h), SegmentValue::Exact(row)),
                        (SegmentValue::Exact(h + 1), SegmentValue::Exact(row + 1)),
                    ],
                    rgb(heat(r.trips as f64 / max)).filled(),
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
        count: Count::trips(a.hour_weekday.iter().map(|r| r.trips).sum()),
    })
}

/// The 15 busiest pickup zones.
pub fn top_zones(a: &Aggregates) -> Result<Chart, VizError> {
    let items: Vec<(String, f64)> = a.top_zones.iter().map(|z| (z.zone.clone(), z.trips as f64)).collect();
    let (svg, marks) = horizontal_bars("top_zones", &items, NEUTRAL, "Trips", &thousands_f)?;
    Ok(Chart {
        name: "top_zones",
        title: "Top 15 pickup zones".into(),
        svg,
        marks,
        legend: Vec::new(),
        count: Count::trips(a.top_zones.iter().map(|r| r.trips).sum()),
    })
}

/// Share of trips by payment type.
pub fn payment_share(a: &Aggregates) -> Result<Chart, VizError> {
    let total: i64 = a.payment_share.iter().map(|p| p.trips).sum();
    let items: Vec<(String, f64)> = a
        .payment_share
        .iter()
        .map(|p| (p.payment_type.clone(), p.trips as f64 / total.max(1) as f64))
        .collect();
    let (svg, marks) = horizontal_bars("payment_share", &items, NEUTRAL, "Share of trips (%)", &percent)?;
    Ok(Chart {
        name: "payment_share",
        title: "Payment types".into(),
        svg,
        marks,
        legend: Vec::new(),
        count: Count::trips(a.payment_share.iter().map(|r| r.trips).sum()),
    })
}

/// Card tip rate by pickup borough.
pub fn tip_rate_by_borough(a: &Aggregates) -> Result<Chart, VizError> {
    let (items, thin): (Vec<_>, Vec<_>) =
        a.tip_rate_by_borough.iter().partition(|r| r.trips >= MIN_TRIPS_FOR_RATE);
    let items: Vec<(String, f64)> = items.into_iter().map(|r| (r.borough.clone(), r.tip_rate)).collect();
    let (svg, marks) =
        horizontal_bars("tip_rate_by_borough", &items, NEUTRAL, "Tips / fares, card payments (%)", &percent)?;
    let mut title = "Tip rate by pickup borough (card payments)".to_owned();
    if !thin.is_empty() {
        let names: Vec<String> = thin.iter().map(|r| format!("{}, {} trips", r.borough, r.trips)).collect();
        title.push_str(&format!("; left out, fewer than {MIN_TRIPS_FOR_RATE} trips: {}", names.join("; ")));
    }
    Ok(Chart { name: "tip_rate_by_borough", title, svg, marks, legend: Vec::new(), count: None })
}

/// Average fare per 0.5-mile distance bin, one line per service.
pub fn fare_by_distance(a: &Aggregates) -> Result<Chart, VizError> {
    let max_x = a.fare_by_distance.iter().map(|r| r.distance).fold(1.0, f64::max);
    let max_y = a.fare_by_distance.iter().map(|r| r.avg_fare).fold(1.0, f64::max);
    let ids = service_ids(&a.fare_by_distance, |r| r.service);
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
            let points: Vec<(f64, f64)> = a
                .fare_by_distance
                .iter()
                .filter(|r| r.service == *id)
                .map(|r| (r.distance, r.avg_fare))
                .collect();
            marks += points.len();
            chart.draw_series(LineSeries::new(points, rgb(service_colour(*id)).stroke_width(2)))?;
        }
        Ok(marks)
    })?;
    Ok(Chart {
        name: "fare_by_distance",
        title: "Fare against distance".into(),
        svg,
        marks,
        legend: service_legend(&a.services, |id| ids.contains(&id)),
        count: Count::trips(a.fare_by_distance.iter().map(|r| r.trips).sum()),
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
            count: None,
        });
    };
    // Every month between the first and last build, so a missing month shows as a gap.
    let months: Vec<atl_core::YearMonth> =
        atl_core::MonthRange::new(first.month, last.month).map(|r| r.iter().collect()).unwrap_or_default();
    let value = |m: &atl_core::YearMonth, pick: fn(&MonthRows) -> i64| {
        a.rows_by_month.iter().find(|r| r.month == *m).map(pick).unwrap_or(0) as f64
    };
    let kept: Vec<f64> = months.iter().map(|m| value(m, |r| r.fact_rows)).collect();
    let rejected: Vec<f64> = months.iter().map(|m| value(m, |r| r.rejected_rows)).collect();
    let labels: Vec<String> = months.iter().map(|m| m.to_string()).collect();
    let no_data: Vec<bool> = months.iter().map(|m| !a.rows_by_month.iter().any(|r| r.month == *m)).collect();
    let (svg, marks) = month_bars(
        "rows_by_month",
        &labels,
        &no_data,
        &[(NEUTRAL, kept), (REJECTED, rejected)],
        "Rows",
        &thousands_f,
    )?;
    let mut legend =
        vec![("Kept in the fact table".into(), NEUTRAL.hex()), ("Rejected".into(), REJECTED.hex())];
    if no_data.contains(&true) {
        legend.push(("Not built".into(), NO_DATA.hex()));
    }
    let services =
        if a.filter.services.is_empty() { "all services".to_owned() } else { a.filter.services.join(", ") };
    Ok(Chart {
        name: "rows_by_month",
        title: format!("Rows loaded per month ({services})"),
        svg,
        marks,
        legend,
        count: None,
    })
}

/// Data quality: rejected rows by reason in the period.
pub fn rejects_by_reason(a: &Aggregates) -> Result<Chart, VizError> {
    let items: Vec<(String, f64)> = a.rejects.iter().map(|r| (r.reason.clone(), r.rows as f64)).collect();
    let (svg, marks) = horizontal_bars("rejects_by_reason", &items, REJECTED, "Rejected rows", &thousands_f)?;
    Ok(Chart {
        name: "rejects_by_reason",
        title: "Rejected rows by reason".into(),
        svg,
        marks,
        legend: Vec::new(),
        count: None,
    })
}
