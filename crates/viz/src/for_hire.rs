//! The for-hire panels: every service's share of the trips by month, and for the high-volume
//! services (Uber, Lyft, ...) the wait from request to pickup by hour (median and 90th
//! percentile), the driver's pay as a share of the base passenger fare and the shared-ride
//! share, from `mart.agg_daily`, `mart.agg_wait_hour` and `mart.agg_for_hire_month`.

use atl_core::{MonthRange, YearMonth};
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use sqlx::PgConnection;

use crate::charts::{Chart, FONT, hex, render_sized, service_colour, slots};
use crate::error::VizError;
use crate::mart::{Service, month_id};
use crate::numbers::percent;

const WIDTH: u32 = 660;
/// A wait bin is 30 s wide (sql/mart/migrations/0002_for_hire.sql); a percentile is read at
/// the middle of the bin it falls in.
const WAIT_BIN_SEC: f64 = 30.0;

/// What the for-hire panels show for one period.
#[derive(Debug, Clone, Default)]
pub struct ForHire {
    /// (service, month, trips): every service, for the market share.
    pub trips_by_month: Vec<(i16, YearMonth, i64)>,
    /// (service, month, driver pay / base fare, shared requested / trips).
    pub by_month: Vec<(i16, YearMonth, Option<f64>, Option<f64>)>,
    /// (service, pickup hour, median wait s, 90th percentile wait s).
    pub wait_by_hour: Vec<(i16, i16, f64, f64)>,
}

impl ForHire {
    /// Reads the period's for-hire figures over `conn`, the connection the rest of the page's
    /// queries use: a second connection per page would let renders at once wait on each other
    /// for the pool (with 200 readers, every render held one and waited for another).
    pub async fn read(conn: &mut PgConnection, period: MonthRange, url: &str) -> Result<ForHire, VizError> {
        let (from, to) = (month_id(period.first()), month_id(period.last()));
        let err = |query: &'static str| move |e| VizError::from_query(query, url, e);
        let trips: Vec<(i16, i32, i64)> = sqlx::query_as(include_str!("../sql/market_share.sql"))
            .bind(from)
            .bind(to)
            .fetch_all(&mut *conn)
            .await
            .map_err(err("market_share.sql"))?;
        let by_month: Vec<(i16, i32, Option<f64>, Option<f64>)> =
            sqlx::query_as(include_str!("../sql/for_hire_month.sql"))
                .bind(from)
                .bind(to)
                .fetch_all(&mut *conn)
                .await
                .map_err(err("for_hire_month.sql"))?;
        let bins: Vec<(i16, i16, i32, i64)> = sqlx::query_as(include_str!("../sql/wait_hour.sql"))
            .bind(from)
            .bind(to)
            .fetch_all(&mut *conn)
            .await
            .map_err(err("wait_hour.sql"))?;
        let month = |id: i32| YearMonth::new(id / 100, (id % 100) as u32);
        Ok(ForHire {
            trips_by_month: trips.into_iter().filter_map(|(s, m, t)| Some((s, month(m)?, t))).collect(),
            by_month: by_month.into_iter().filter_map(|(s, m, p, sh)| Some((s, month(m)?, p, sh))).collect(),
            wait_by_hour: percentiles(&bins),
        })
    }

    /// Only the rows of `services` (`None`: every service), as the page's service filter says.
    pub fn only(mut self, services: Option<&[i16]>) -> ForHire {
        if let Some(ids) = services {
            self.trips_by_month.retain(|r| ids.contains(&r.0));
            self.by_month.retain(|r| ids.contains(&r.0));
            self.wait_by_hour.retain(|r| ids.contains(&r.0));
        }
        self
    }

    /// The panels, in page order; none when the mart holds no for-hire trip in the period.
    pub fn charts(&self, period: MonthRange, services: &[Service]) -> Result<Vec<Chart>, VizError> {
        if self.by_month.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![
            market_share(self, period, services)?,
            wait_by_hour(self, services)?,
            monthly_rate(
                "driver_pay_share",
                "Driver pay as a share of the base passenger fare",
                period,
                services,
                &self.by_month.iter().map(|r| (r.0, r.1, r.2)).collect::<Vec<_>>(),
            )?,
            monthly_rate(
                "shared_ride_share",
                "Trips that requested a shared ride",
                period,
                services,
                &self.by_month.iter().map(|r| (r.0, r.1, r.3)).collect::<Vec<_>>(),
            )?,
        ])
    }
}

/// Medians and 90th percentiles per (service, hour) from rows (service, hour, bin, trips)
/// sorted by service, hour and bin.
fn percentiles(bins: &[(i16, i16, i32, i64)]) -> Vec<(i16, i16, f64, f64)> {
    let mut out = Vec::new();
    for group in bins.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        let total: i64 = group.iter().map(|r| r.3).sum();
        let at = |q: f64| {
            let mut seen = 0;
            for r in group {
                seen += r.3;
                if seen as f64 >= q * total as f64 {
                    return f64::from(r.2) + WAIT_BIN_SEC / 2.0;
                }
            }
            f64::NAN
        };
        out.push((group[0].0, group[0].1, at(0.5), at(0.9)));
    }
    out
}

fn legend(services: &[Service], ids: &[i16]) -> Vec<(String, String)> {
    services
        .iter()
        .filter(|s| ids.contains(&s.id))
        .map(|s| (s.display_name(), hex(service_colour(s.id))))
        .collect()
}

fn ids<T>(rows: &[T], id: impl Fn(&T) -> i16) -> Vec<i16> {
    let mut ids: Vec<i16> = rows.iter().map(id).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Each service's share of the month's trips, stacked to 100%; months without trips empty.
fn market_share(f: &ForHire, period: MonthRange, services: &[Service]) -> Result<Chart, VizError> {
    let months: Vec<YearMonth> = period.iter().collect();
    let present = ids(&f.trips_by_month, |r| r.0);
    let total = |m: YearMonth| f.trips_by_month.iter().filter(|r| r.1 == m).map(|r| r.2).sum::<i64>();
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
                let trips: i64 =
                    f.trips_by_month.iter().filter(|r| r.0 == *id && r.1 == *m).map(|r| r.2).sum();
                if all == 0 || trips == 0 {
                    continue;
                }
                let share = trips as f64 / all as f64;
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(i as i32), base[i]),
                        (SegmentValue::Exact(i as i32 + 1), base[i] + share),
                    ],
                    service_colour(*id).filled(),
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
        legend: legend(services, &present),
    })
}

/// Wait from request to pickup by pickup hour: the median as a line, the 90th percentile
/// as a thinner line of the same colour, per high-volume service.
fn wait_by_hour(f: &ForHire, services: &[Service]) -> Result<Chart, VizError> {
    let present = ids(&f.wait_by_hour, |r| r.0);
    let top = f.wait_by_hour.iter().map(|r| r.3).filter(|v| v.is_finite()).fold(60.0, f64::max) / 60.0 * 1.1;
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
            let rows: Vec<&(i16, i16, f64, f64)> = f.wait_by_hour.iter().filter(|r| r.0 == *id).collect();
            let median: Vec<(f64, f64)> = rows.iter().map(|r| (f64::from(r.1), r.2 / 60.0)).collect();
            let p90: Vec<(f64, f64)> = rows.iter().map(|r| (f64::from(r.1), r.3 / 60.0)).collect();
            marks += median.len();
            chart.draw_series(LineSeries::new(median, service_colour(*id).stroke_width(3)))?;
            chart.draw_series(LineSeries::new(p90, service_colour(*id).stroke_width(1)))?;
        }
        Ok(marks)
    })?;
    Ok(Chart {
        name: "wait_by_hour",
        title: "High-volume for-hire: wait from request to pickup".into(),
        svg,
        marks,
        legend: legend(services, &present),
    })
}

/// A rate per service and month, as lines; a month without the figure breaks the line.
fn monthly_rate(
    name: &'static str,
    title: &str,
    period: MonthRange,
    services: &[Service],
    rows: &[(i16, YearMonth, Option<f64>)],
) -> Result<Chart, VizError> {
    let months: Vec<YearMonth> = period.iter().collect();
    let rows: Vec<&(i16, YearMonth, Option<f64>)> =
        rows.iter().filter(|r| r.2.is_some_and(f64::is_finite)).collect();
    let present = ids(&rows, |r| r.0);
    let top = rows.iter().filter_map(|r| r.2).fold(0.0, f64::max).max(0.01) * 1.1;
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
                    rows.iter().find(|r| r.0 == *id && r.1 == *m).and_then(|r| r.2).map(|v| (i as f64, v))
                })
                .collect();
            for run in points.chunk_by(|a, b| b.0 - a.0 == 1.0) {
                chart.draw_series(LineSeries::new(run.to_vec(), service_colour(*id).stroke_width(2)))?;
            }
            chart.draw_series(points.iter().map(|p| Circle::new(*p, 3, service_colour(*id).filled())))?;
            marks += points.len();
        }
        Ok(marks)
    })?;
    Ok(Chart { name, title: title.into(), svg, marks, legend: legend(services, &present) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_filter_keeps_the_chosen_services() {
        let month = YearMonth::new(2024, 1).unwrap();
        let all = ForHire {
            trips_by_month: vec![(1, month, 10), (6, month, 30), (8, month, 20)],
            by_month: vec![(6, month, Some(0.7), None), (8, month, Some(0.6), None)],
            wait_by_hour: vec![(6, 8, 45.0, 300.0), (8, 8, 60.0, 400.0)],
        };
        let lyft = all.clone().only(Some(&[8]));
        assert_eq!(lyft.trips_by_month, vec![(8, month, 20)]);
        assert_eq!(lyft.by_month.len(), 1);
        assert_eq!(lyft.wait_by_hour, vec![(8, 8, 60.0, 400.0)]);
        assert_eq!(all.clone().only(None).trips_by_month.len(), 3);
    }

    #[test]
    fn percentiles_come_from_the_bins() {
        // 10 trips: 4 in [0, 30), 4 in [30, 60), 2 in [300, 330).
        let bins = [(6, 8, 0, 4), (6, 8, 30, 4), (6, 8, 300, 2), (8, 8, 60, 1)];
        assert_eq!(percentiles(&bins), vec![(6, 8, 45.0, 315.0), (8, 8, 75.0, 75.0)]);
    }
}
