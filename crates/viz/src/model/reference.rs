//! What the dashboard reads from the mart's reference tables (migration 0003): the zone
//! shapes with each zone's figures for the maps, and the TLC's monthly indicators beside the
//! mart's own figures. A mart without those tables (built by an older release) gives an
//! empty [`Reference`], and the page says what to run.

/// One record of the TLC's zone shapefile, as a path in map units.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneShape {
    pub shape_no: i32,
    /// LocationID as the shapefile records it.
    pub zone_id: i32,
    pub zone: String,
    pub borough: String,
    pub svg_path: String,
    pub min_x: i32,
    pub min_y: i32,
    pub max_x: i32,
    pub max_y: i32,
}

/// One pickup zone's figures for the filter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZoneMeasure {
    pub zone_id: i32,
    pub trips: i64,
    pub revenue: f64,
    pub card_fare: f64,
    pub card_tip: f64,
}

/// One month and TLC licence class: the TLC's figures and ours. Totals, not per day: the
/// page divides by the month's days.
#[derive(Debug, Clone, PartialEq)]
pub struct TlcRow {
    pub month: atl_core::YearMonth,
    pub licence_class: String,
    /// The report's classes whose sum the TLC's figures are, `A + B`, when that is not
    /// `licence_class` itself (the other FHV classes, summed beside the mart's `fhv`).
    pub report_classes: Option<String>,
    pub tlc_trips_per_day: Option<f64>,
    pub tlc_farebox_per_day: Option<f64>,
    /// Every row picked up in the month (the TLC's definition); `None` for months built by
    /// a release before this count existed.
    pub recorded_trips: Option<i64>,
    pub recorded_farebox: Option<f64>,
    /// The fact table's trips (after cleaning).
    pub cleaned_trips: Option<i64>,
    pub cleaned_farebox: Option<f64>,
}

impl TlcRow {
    pub fn days(&self) -> f64 {
        (self.month.next().first_day() - self.month.first_day()).num_days() as f64
    }
}

/// Which copy of an optional reference file the mart holds (`mart.ref_release`, migration
/// 0009): a failed refresh leaves the last good one, so the page says which it shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Release {
    /// When that copy entered the lake.
    pub fetched_at: chrono::DateTime<chrono::Utc>,
    /// The indicators: the newest month the release covers.
    pub newest_month: Option<atl_core::YearMonth>,
}

impl Release {
    /// `the release covering up to 2024-01, fetched on 2026-12-01` (or without the month).
    pub fn describe(&self) -> String {
        let fetched = self.fetched_at.format("%Y-%m-%d");
        match self.newest_month {
            Some(month) => format!("the release covering up to {month}, fetched on {fetched}"),
            None => format!("the copy fetched on {fetched}"),
        }
    }
}

/// The reference panels' data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reference {
    /// Whether the mart has the reference tables at all.
    pub available: bool,
    pub zone_shapes: Vec<ZoneShape>,
    pub zone_measures: Vec<ZoneMeasure>,
    pub tlc: Vec<TlcRow>,
    /// The zone shapes' copy; `None`: none recorded (no shapes, or a mart before 0009).
    pub shapes_release: Option<Release>,
    /// The indicators' release; `None`: none recorded.
    pub indicators_release: Option<Release>,
}

/// Deviations (ours on the TLC's definition against the TLC) above this are flagged: that is
/// a difference of counting, not of cleaning, and worth a look.
pub const FLAG_ABOVE: f64 = 0.01;

/// `(ours − theirs) / theirs`.
pub fn deviation(ours: Option<f64>, theirs: Option<f64>) -> Option<f64> {
    let (ours, theirs) = (ours?, theirs?);
    (theirs != 0.0).then(|| (ours - theirs) / theirs)
}

impl TlcRow {
    pub fn recorded_trips_per_day(&self) -> Option<f64> {
        self.recorded_trips.map(|t| t as f64 / self.days())
    }
    pub fn cleaned_trips_per_day(&self) -> Option<f64> {
        self.cleaned_trips.map(|t| t as f64 / self.days())
    }
    pub fn recorded_farebox_per_day(&self) -> Option<f64> {
        self.recorded_farebox.map(|f| f / self.days())
    }
    pub fn cleaned_farebox_per_day(&self) -> Option<f64> {
        self.cleaned_farebox.map(|f| f / self.days())
    }
    /// Whether a figure of ours on the TLC's definition is more than [`FLAG_ABOVE`] off.
    pub fn flagged(&self) -> bool {
        [
            deviation(self.recorded_trips_per_day(), self.tlc_trips_per_day),
            deviation(self.recorded_farebox_per_day(), self.tlc_farebox_per_day),
        ]
        .into_iter()
        .flatten()
        .any(|d| d.abs() > FLAG_ABOVE)
    }
}
