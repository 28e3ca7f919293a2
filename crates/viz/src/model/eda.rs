//! The exploratory report's figures: the raw table's columns, per column and month the
//! statistics and the distribution, per month the anomaly counts. What is measured is
//! declared here once, the anomalies ([`ANOMALIES`], each with its [`Rule`]) and the
//! quantiles ([`QUANTILES`]); the report's SQL ([`crate::query::eda`]) is derived from them.

use std::time::Duration;

use atl_core::{MonthRange, TripKind, YearMonth};

/// Months with more rows than this get quantiles and histograms from a sample of about as
/// many rows.
pub const DEFAULT_SAMPLE_ROWS: i64 = 500_000;
/// Bins of a continuous histogram (about; the edges are rounded to 1, 2, 2.5 or 5 × 10^k).
pub const BINS: usize = 40;
/// Integer-valued columns spanning at most this many values get one bin per value.
const MAX_UNIT_BINS: f64 = 60.0;
/// Distinct values kept per text column and month; the rest are summed as "(other)".
pub const TOP_VALUES: usize = 12;

/// A quantile shown: its name on the page (and in `data-stat`) and its fraction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantile {
    pub name: &'static str,
    pub fraction: f64,
}

/// The quantiles shown, in order: the histograms' bins run from the first to the last.
pub const QUANTILES: [Quantile; 5] = [
    Quantile { name: "p1", fraction: 0.01 },
    Quantile { name: "p25", fraction: 0.25 },
    Quantile { name: "p50", fraction: 0.5 },
    Quantile { name: "p75", fraction: 0.75 },
    Quantile { name: "p99", fraction: 0.99 },
];

/// What makes a row anomalous, on the columns of the raw tables.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// A money column of the kind (atl_core's `money_columns`) below zero.
    NegativeMoney,
    /// The first of these columns the table has equals zero.
    Zero(&'static [&'static str]),
    /// The pickup time (the timestamp column ending in `pickup_datetime`) outside the month
    /// of the file.
    PickupOutOfMonth,
    /// The dropoff time before the pickup time.
    DropoffBeforePickup,
    /// The column holds none of these codes.
    NotIn(&'static str, &'static [i64]),
    /// The column lies outside `[lo, hi]`.
    Outside(&'static str, i64, i64),
}

/// An anomaly counted per month: machine key (`data-anomaly`), label, definition, rule.
#[derive(Debug, Clone, Copy)]
pub struct Anomaly {
    pub key: &'static str,
    pub label: &'static str,
    pub definition: &'static str,
    pub rule: Rule,
}

/// The anomalies of the report, in page order.
pub const ANOMALIES: [Anomaly; 9] = [
    Anomaly {
        key: "negative_amount",
        label: "Negative amount",
        definition: "at least one money column (fare, extra, taxes, tip, tolls, surcharges, fees, total) below zero",
        rule: Rule::NegativeMoney,
    },
    Anomaly {
        key: "zero_distance",
        label: "Zero distance",
        definition: "trip_distance (trip_miles for high-volume FHV) = 0",
        rule: Rule::Zero(&["trip_distance", "trip_miles"]),
    },
    Anomaly {
        key: "out_of_month",
        label: "Pickup out of month",
        definition: "pickup time outside the month of the file (source_month)",
        rule: Rule::PickupOutOfMonth,
    },
    Anomaly {
        key: "dropoff_before_pickup",
        label: "Dropoff before pickup",
        definition: "dropoff time earlier than pickup time",
        rule: Rule::DropoffBeforePickup,
    },
    Anomaly {
        key: "unknown_vendor",
        label: "Unknown vendor",
        definition: "vendorid not in 1, 2, 6, 7",
        rule: Rule::NotIn("vendorid", &[1, 2, 6, 7]),
    },
    Anomaly {
        key: "unknown_ratecode",
        label: "Unknown rate code",
        definition: "ratecodeid not in 1–6 or 99",
        rule: Rule::NotIn("ratecodeid", &[1, 2, 3, 4, 5, 6, 99]),
    },
    Anomaly {
        key: "unknown_payment_type",
        label: "Unknown payment type",
        definition: "payment_type not in 0–6",
        rule: Rule::NotIn("payment_type", &[0, 1, 2, 3, 4, 5, 6]),
    },
    Anomaly {
        key: "unknown_pickup_zone",
        label: "Pickup zone outside 1–265",
        definition: "pulocationid not between 1 and 265",
        rule: Rule::Outside("pulocationid", 1, 265),
    },
    Anomaly {
        key: "unknown_dropoff_zone",
        label: "Dropoff zone outside 1–265",
        definition: "dolocationid not between 1 and 265",
        rule: Rule::Outside("dolocationid", 1, 265),
    },
];

/// What to profile.
#[derive(Debug, Clone)]
pub struct EdaRequest {
    /// Any kind the warehouse has a raw table for.
    pub kind: TripKind,
    /// `None`: every month the warehouse holds for `kind`.
    pub months: Option<MonthRange>,
    /// Months with more rows are sampled for quantiles and histograms; 0 never samples.
    pub sample_rows: i64,
}

impl EdaRequest {
    pub fn new(kind: TripKind) -> EdaRequest {
        EdaRequest { kind, months: None, sample_rows: DEFAULT_SAMPLE_ROWS }
    }
}

/// How the page reads and draws a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Integer,
    Float,
    /// Figures in seconds since the epoch.
    Timestamp,
    /// Null rate and value counts only.
    Text,
}

impl ColumnKind {
    /// The kind of an `information_schema` data type.
    pub fn of(data_type: &str) -> ColumnKind {
        match data_type {
            "bigint" | "integer" | "smallint" => ColumnKind::Integer,
            "double precision" | "real" | "numeric" => ColumnKind::Float,
            t if t.starts_with("timestamp") => ColumnKind::Timestamp,
            _ => ColumnKind::Text,
        }
    }

    /// Whether the column has min/max, quantiles and a binned histogram.
    pub fn is_numeric(self) -> bool {
        !matches!(self, ColumnKind::Text)
    }
}

/// A column of the raw table.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// As `information_schema` names it: `bigint`, `double precision`, ...
    pub data_type: String,
    pub kind: ColumnKind,
}

/// One column in one month. Min, max and quantiles are `None` when every value is null.
#[derive(Debug, Clone, Default)]
pub struct ColumnStats {
    pub non_null: i64,
    pub negative: i64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// In [`QUANTILES`] order, on the month's sample.
    pub quantiles: Option<[f64; QUANTILES.len()]>,
}

/// Bins `[lo + i·width, lo + (i+1)·width)`, `i` in `0..counts.len()`, and what fell outside.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    pub lo: f64,
    pub hi: f64,
    pub counts: Vec<i64>,
    pub below: i64,
    pub above: i64,
}

impl Histogram {
    pub fn width(&self) -> f64 {
        (self.hi - self.lo) / self.counts.len().max(1) as f64
    }
}

/// A text column's value and the rows that hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueCount {
    pub value: String,
    pub rows: i64,
}

/// A column's distribution in one month (on the sample).
#[derive(Debug, Clone, PartialEq)]
pub enum Distribution {
    Bins(Histogram),
    /// Most frequent first.
    Values(Vec<ValueCount>),
    /// No non-null value.
    Empty,
}

/// Everything the report shows about one month.
#[derive(Debug, Clone)]
pub struct MonthProfile {
    pub month: YearMonth,
    pub rows: i64,
    /// Share of the month's pages read for quantiles and histograms, in percent (100: all).
    pub sample_percent: f64,
    /// In column order.
    pub columns: Vec<ColumnStats>,
    /// In column order.
    pub distributions: Vec<Distribution>,
    /// In [`ANOMALIES`] order.
    pub anomalies: Vec<i64>,
    /// Rows with at least one anomaly.
    pub anomalous_rows: i64,
}

impl MonthProfile {
    pub fn is_sampled(&self) -> bool {
        self.sample_percent < 100.0
    }
}

/// The report's data.
#[derive(Debug, Clone)]
pub struct Eda {
    pub kind: TripKind,
    /// `raw.yellow_tripdata`.
    pub table: String,
    pub period: MonthRange,
    pub columns: Vec<Column>,
    /// Per anomaly of [`ANOMALIES`], whether the table has the columns it is about; the
    /// others are not shown (fhv has no money, the for-hire kinds no vendor or payment type).
    pub applicable: Vec<bool>,
    pub months: Vec<MonthProfile>,
    pub sample_rows: i64,
    pub query_time: Duration,
}

/// The bins of a histogram: `count` of them, of equal width, over `[lo, hi)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bins {
    pub lo: f64,
    pub hi: f64,
    pub count: usize,
}

/// `1, 2, 2.5, 5 × 10^k`, the smallest at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

/// The bins of a numeric column, shared by every month: from the lowest p1 to the highest
/// p99 over the months (from min to max when that is not much wider); one bin per integer
/// for integer-valued columns with a small range.
/// `extent` is the (min, max) over the months: integer codes whose whole range is small get
/// a bar for every value, rare ones included (an unknown code is worth seeing).
pub fn bins_for(
    kind: ColumnKind,
    quantiles: &[[f64; QUANTILES.len()]],
    extent: Option<(f64, f64)>,
) -> Option<Bins> {
    let lo = quantiles.iter().map(|q| q[0]).fold(f64::INFINITY, f64::min);
    let hi = quantiles.iter().map(|q| q[QUANTILES.len() - 1]).fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() {
        return None;
    }
    let integral =
        kind == ColumnKind::Integer || quantiles.iter().all(|q| q.iter().all(|v| v.fract() == 0.0));
    let unit_bins = |lo: f64, hi: f64| {
        let (lo, hi) = (lo.floor() - 0.5, hi.ceil() + 0.5);
        Some(Bins { lo, hi, count: (hi - lo).round() as usize })
    };
    match extent {
        Some((min, max)) if integral && max - min <= MAX_UNIT_BINS => return unit_bins(min, max),
        _ if integral && hi - lo <= MAX_UNIT_BINS => return unit_bins(lo, hi),
        _ => {}
    }
    // No absurd value beyond the percentiles (zone ids 1..265): draw everything.
    let (lo, hi) = match extent {
        Some((min, max)) if max - min <= 1.5 * (hi - lo) => (min, max),
        _ => (lo, hi),
    };
    if hi - lo <= f64::EPSILON * lo.abs().max(1.0) * 64.0 {
        let step = nice_step(lo.abs().max(1.0) / 10.0);
        let lo = (lo / step).floor() * step - step;
        return Some(Bins { lo, hi: lo + 3.0 * step, count: 3 });
    }
    let step = nice_step((hi - lo) / BINS as f64);
    let start = (lo / step).floor() * step;
    let bins = ((hi - start) / step).floor() as usize + 1;
    Some(Bins { lo: start, hi: start + bins as f64 * step, count: bins })
}

/// Per column, the bins every month's histogram shares (`None`: a text column, or no value).
pub fn shared_bins(columns: &[Column], profiles: &[MonthProfile]) -> Vec<Option<Bins>> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let quantiles: Vec<[f64; QUANTILES.len()]> =
                profiles.iter().filter_map(|p| p.columns[i].quantiles).collect();
            let min = profiles.iter().filter_map(|p| p.columns[i].min).reduce(f64::min);
            let max = profiles.iter().filter_map(|p| p.columns[i].max).reduce(f64::max);
            let extent = min.zip(max);
            if c.kind.is_numeric() { bins_for(c.kind, &quantiles, extent) } else { None }
        })
        .collect()
}

/// The figure name of a column's histogram in a month: its `data-chart` and `id`.
pub fn histogram_name(column: &str, month: YearMonth) -> String {
    format!("hist-{column}-{month}")
}

/// A text column's values, most frequent first, the rest past [`TOP_VALUES`] summed as
/// "(other)".
pub fn top_values(mut values: Vec<ValueCount>) -> Vec<ValueCount> {
    if values.len() > TOP_VALUES {
        let rows: i64 = values[TOP_VALUES - 1..].iter().map(|v| v.rows).sum();
        values.truncate(TOP_VALUES - 1);
        values.push(ValueCount { value: "(other)".into(), rows });
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_cover_p1_to_p99_on_round_edges() {
        let Bins { lo, hi, count: n } = bins_for(
            ColumnKind::Float,
            &[[0.3, 1.0, 1.7, 3.1, 19.84], [0.2, 1.1, 1.8, 3.0, 21.3]],
            Some((-5.0, 9e4)),
        )
        .unwrap();
        // 21.1 / 40 rounds up to bins of 1.
        assert_eq!((lo, hi, n), (0.0, 22.0, 22));
        let Bins { lo, hi, count: n } =
            bins_for(ColumnKind::Float, &[[-3.2, 0.0, 8.0, 12.0, 70.1]], None).unwrap();
        assert_eq!((lo, hi, n), (-4.0, 72.0, 38));
        // Without outliers beyond p1..p99 the bins run from min to max.
        assert_eq!(
            bins_for(ColumnKind::Integer, &[[4.0, 79.0, 132.0, 163.0, 253.0]], Some((1.0, 265.0))),
            Some(Bins { lo: 0.0, hi: 270.0, count: 27 })
        );
        // Codes: one bin per integer, centred on it.
        assert_eq!(
            bins_for(ColumnKind::Float, &[[1.0, 1.0, 1.0, 2.0, 4.0]], Some((1.0, 99.0))),
            Some(Bins { lo: 0.5, hi: 4.5, count: 4 })
        );
        // ... every value of a small range, the rare ones too.
        assert_eq!(
            bins_for(ColumnKind::Integer, &[[1.0, 1.0, 2.0, 2.0, 2.0]], Some((1.0, 7.0))),
            Some(Bins { lo: 0.5, hi: 7.5, count: 7 })
        );
        // A constant non-integer: three bins around it.
        let Bins { lo, hi, count: n } = bins_for(ColumnKind::Float, &[[0.5; 5]], Some((0.5, 0.5))).unwrap();
        assert!(lo < 0.5 && 0.5 < hi && n == 3, "{lo} {hi} {n}");
        assert_eq!(bins_for(ColumnKind::Float, &[], None), None);
    }

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(0.43), 0.5);
        assert_eq!(nice_step(2.1), 2.5);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(1.0), 1.0);
    }
}
