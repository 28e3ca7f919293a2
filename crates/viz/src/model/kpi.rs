//! The KPI tiles: what they measure (the [`Totals`] of `mart.agg_daily` over a period) and
//! how each compares with the previous period of the same length.

use crate::numbers::{money, percent, thousands};

/// Sums and ratios over a period, the chosen services together. Ratios are `None` when their
/// denominator is zero (a period without trips, or without card payments).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    pub trips: i64,
    /// Dollars, `total_amount` summed.
    pub revenue: f64,
    pub avg_fare: Option<f64>,
    /// Card tips over card fares: cash tips are not recorded by the meters.
    pub tip_rate: Option<f64>,
    pub avg_duration_sec: Option<f64>,
    pub avg_speed_mph: Option<f64>,
    /// Trips touching an airport over all trips.
    pub airport_share: Option<f64>,
}

/// How a tile's change against the previous period is expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Relative change, for amounts (`+4.2 %`).
    Relative,
    /// Difference in percentage points, for rates (`+0.3 pp`).
    Points,
}

/// One KPI tile.
#[derive(Debug, Clone, PartialEq)]
pub struct Kpi {
    /// Machine name, the page's `data-kpi` attribute: `trips`, `revenue`, `avg_fare`, ...
    pub key: &'static str,
    pub label: &'static str,
    /// The exact figure (`data-value`), in the unit of `display`'s number but unscaled
    /// (ratios as ratios, durations in seconds).
    pub value: Option<f64>,
    pub display: String,
    pub previous: Option<f64>,
    pub change_kind: ChangeKind,
}

impl Kpi {
    /// The change against the previous period: a relative change or percentage points.
    pub fn change(&self) -> Option<f64> {
        let (now, before) = (self.value?, self.previous?);
        match self.change_kind {
            ChangeKind::Relative if before != 0.0 => Some((now - before) / before),
            ChangeKind::Relative => None,
            ChangeKind::Points => Some((now - before) * 100.0),
        }
    }

    /// `+4.2 %`, `-0.3 pp`, or `None` without a previous figure.
    pub fn change_display(&self) -> Option<String> {
        let c = self.change()?;
        Some(match self.change_kind {
            ChangeKind::Relative => format!("{:+.1} %", c * 100.0),
            ChangeKind::Points => format!("{c:+.1} pp"),
        })
    }
}

/// The seven tiles, in page order.
pub fn kpis(now: &Totals, before: &Totals) -> Vec<Kpi> {
    let before_trips = (before.trips > 0).then_some(before.trips as f64);
    let before_revenue = (before.trips > 0).then_some(before.revenue);
    let or_dash = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map(f).unwrap_or_else(|| "–".to_owned());
    let tile = |key, label, value: Option<f64>, previous, display: String, change_kind| Kpi {
        key,
        label,
        value,
        display,
        previous,
        change_kind,
    };
    vec![
        tile(
            "trips",
            "Trips",
            Some(now.trips as f64),
            before_trips,
            thousands(now.trips),
            ChangeKind::Relative,
        ),
        tile(
            "revenue",
            "Revenue",
            Some(now.revenue),
            before_revenue,
            money(now.revenue),
            ChangeKind::Relative,
        ),
        tile(
            "avg_fare",
            "Average fare",
            now.avg_fare,
            before.avg_fare,
            or_dash(now.avg_fare, &money),
            ChangeKind::Relative,
        ),
        tile(
            "tip_rate",
            "Tip rate (card)",
            now.tip_rate,
            before.tip_rate,
            or_dash(now.tip_rate, &percent),
            ChangeKind::Points,
        ),
        tile(
            "avg_duration",
            "Average duration",
            now.avg_duration_sec,
            before.avg_duration_sec,
            or_dash(now.avg_duration_sec, &|s| format!("{:.1} min", s / 60.0)),
            ChangeKind::Relative,
        ),
        tile(
            "avg_speed",
            "Average speed",
            now.avg_speed_mph,
            before.avg_speed_mph,
            or_dash(now.avg_speed_mph, &|v| format!("{v:.1} mph")),
            ChangeKind::Relative,
        ),
        tile(
            "airport_share",
            "Airport trips",
            now.airport_share,
            before.airport_share,
            or_dash(now.airport_share, &percent),
            ChangeKind::Points,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_relative_for_amounts_and_points_for_rates() {
        let now = Totals { trips: 1100, revenue: 10.0, tip_rate: Some(0.21), ..Totals::default() };
        let before = Totals { trips: 1000, revenue: 10.0, tip_rate: Some(0.20), ..Totals::default() };
        let k = kpis(&now, &before);
        assert_eq!(k[0].change_display().as_deref(), Some("+10.0 %"));
        assert_eq!(k[0].display, "1,100");
        assert_eq!(k[3].change_display().as_deref(), Some("+1.0 pp"));
        assert_eq!(k[2].display, "–");
        let none = kpis(&now, &Totals::default());
        assert_eq!(none[0].change(), None);
    }
}
