//! Everything the dashboard shows for one filter ([`Aggregates`]), one named struct per
//! panel's row.

use atl_core::{MonthRange, YearMonth};
use chrono::{Datelike, NaiveDate};

use crate::filter::Filter;
use crate::model::for_hire::ForHire;
use crate::model::kpi::Totals;
use crate::model::market::Market;
use crate::model::reference::Reference;

/// Tip rates (and other ratios) resting on fewer trips than this are not drawn as bars or
/// colours: a handful of airport trips gave EWR a tip rate above 100 %.
pub const MIN_TRIPS_FOR_RATE: i64 = 100;

/// A service of the mart (`mart.dim_service`): 1 yellow, 2 green, then the for-hire ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub id: i16,
    pub name: String,
    /// The TLC licence of a high-volume service (`HV0003`); `None` for the others.
    pub licence: Option<String>,
}

impl Service {
    /// A licence the mart knows no company for: the mart keeps its trips under a service
    /// named by the code (the TLC may license a new company), and the page says so.
    pub fn is_unnamed_licence(&self) -> bool {
        self.licence.as_deref().is_some_and(|l| l.eq_ignore_ascii_case(&self.name))
    }

    /// The name as a legend shows it: `yellow` → `Yellow`, `fhv` → `Other FHV`.
    pub fn display_name(&self) -> String {
        service_label(&self.name)
    }
}

/// A `dim_service` name as readers know the service; names the mart learns later (a new
/// high-volume licence) are shown capitalised.
pub fn service_label(name: &str) -> String {
    match name {
        "fhv" => "Other FHV".into(),
        "fhvhv" => "High-volume FHV (no licence)".into(),
        _ => {
            let mut chars = name.chars();
            chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
        }
    }
}

/// A service's trips on a day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DailyTrips {
    pub service: i16,
    pub day: NaiveDate,
    pub trips: i64,
}

/// A service's revenue in a month, in dollars.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonthRevenue {
    pub service: i16,
    pub month: YearMonth,
    pub revenue: f64,
}

/// Trips in an hour of a weekday, the chosen services together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HourWeekday {
    /// 1 = Monday .. 7.
    pub weekday: i16,
    /// 0..23, local time.
    pub hour: i16,
    pub trips: i64,
}

/// A pickup zone's trips.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneTrips {
    pub zone: String,
    pub trips: i64,
}

/// A payment type's trips.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentShare {
    pub payment_type: String,
    pub trips: i64,
}

/// A pickup borough's card tip rate (card tips / card fares), with the trips it rests on.
#[derive(Debug, Clone, PartialEq)]
pub struct BoroughTipRate {
    pub borough: String,
    pub tip_rate: f64,
    pub trips: i64,
}

/// A service's average fare in a distance bin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FareByDistance {
    pub service: i16,
    /// The bin's lower bound, in miles (bins of 0.5 mile).
    pub distance: f64,
    /// Dollars.
    pub avg_fare: f64,
    /// The trips the average rests on.
    pub trips: i64,
}

/// A service's month under congestion pricing (from 2025-01-05): its trips, those charged
/// `cbd_congestion_fee`, and the fee's total in dollars.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CongestionMonth {
    pub service: i16,
    pub month: YearMonth,
    pub trips: i64,
    pub charged_trips: i64,
    pub fee: f64,
}

/// A built month's rows, from `mart.build_log`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthRows {
    pub month: YearMonth,
    pub fact_rows: i64,
    pub rejected_rows: i64,
}

/// Rows the cleaning rejected for a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectReason {
    pub reason: String,
    pub rows: i64,
}

/// Everything the dashboard shows for one filter, read in one go.
#[derive(Debug, Clone)]
pub struct Aggregates {
    /// The filter as asked, with the period filled in.
    pub filter: Filter,
    pub period: MonthRange,
    /// The months just before `period`, as many as it has: the KPI changes compare to it.
    pub previous_period: MonthRange,
    /// Every service of `mart.dim_service` (the form offers them all).
    pub services: Vec<Service>,
    /// Every borough of `mart.dim_borough`, by name.
    pub boroughs: Vec<String>,
    pub totals: Totals,
    pub previous_totals: Totals,
    pub daily: Vec<DailyTrips>,
    pub revenue_by_month: Vec<MonthRevenue>,
    pub hour_weekday: Vec<HourWeekday>,
    /// The 15 busiest pickup zones, busiest first.
    pub top_zones: Vec<ZoneTrips>,
    pub payment_share: Vec<PaymentShare>,
    pub tip_rate_by_borough: Vec<BoroughTipRate>,
    pub fare_by_distance: Vec<FareByDistance>,
    /// Over the whole mart, not only the period.
    pub rows_by_month: Vec<MonthRows>,
    /// In the period.
    pub rejects: Vec<RejectReason>,
    /// The months of the period where trips were charged the congestion fee.
    pub congestion: Vec<CongestionMonth>,
    /// The for-hire panels' figures.
    pub for_hire: ForHire,
    /// Each side's share of the pickups by zone and borough (every borough).
    pub market: Market,
    /// Zone shapes and figures for the maps, the TLC's indicators beside ours.
    pub reference: Reference,
}

impl Aggregates {
    /// The services that have days in the period, in `dim_service` order: what the charts draw.
    pub fn services_drawn(&self) -> Vec<&Service> {
        self.services.iter().filter(|s| self.daily.iter().any(|d| d.service == s.id)).collect()
    }

    /// The months of the period with at least one day of trips.
    pub fn months_with_data(&self) -> Vec<YearMonth> {
        let mut months: Vec<YearMonth> =
            self.daily.iter().filter_map(|d| YearMonth::new(d.day.year(), d.day.month())).collect();
        months.dedup();
        months.sort_unstable();
        months.dedup();
        months
    }

    /// Months between the first and the last month of `mart.build_log` that were never built.
    pub fn missing_months(&self) -> Vec<YearMonth> {
        let (Some(first), Some(last)) = (self.rows_by_month.first(), self.rows_by_month.last()) else {
            return Vec::new();
        };
        let Some(range) = MonthRange::new(first.month, last.month) else { return Vec::new() };
        range.iter().filter(|m| !self.rows_by_month.iter().any(|b| b.month == *m)).collect()
    }
}

/// The `len` months ending just before `period` starts.
pub fn previous_period(period: MonthRange) -> MonthRange {
    let last = period.first().prev();
    let first = (1..period.len()).fold(last, |m, _| m.prev());
    MonthRange::new(first, last).unwrap_or(MonthRange::single(last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_period_has_the_same_length() {
        let p: MonthRange = "2023-01..2023-03".parse().unwrap();
        assert_eq!(previous_period(p).to_string(), "2022-10..2022-12");
        let p: MonthRange = "2023-05".parse().unwrap();
        assert_eq!(previous_period(p).to_string(), "2023-04");
    }
}
