//! Which month a trip file's rows belong to, by their pickup times.
//!
//! Real TLC files hold a few trips dated outside their month (clock errors, trips started
//! the night before), but a file whose rows are mostly from another month is the wrong file:
//! a mirror serving 2025-02 as 2023-02, a mis-named upload. [`PickupTally`] counts the pickups
//! of a file per month as its batches go by, and [`PickupTally::check`] refuses the file when
//! fewer than half of them fall inside the month it claims to be.

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int64Type, TimeUnit};
use chrono::{DateTime, Datelike};

use crate::YearMonth;

const MICROS_PER_DAY: i64 = 86_400 * 1_000_000;

/// Pickups per day (days since 1970-01-01): counters for the days near the first one, a map
/// for the rest.
struct DayWindow {
    first: i64,
    counts: Vec<u64>,
    far: BTreeMap<i64, u64>,
}

impl DayWindow {
    /// Days counted in the flat window: from 40 days before the first pickup to 90 after.
    const BEFORE: i64 = 40;
    const SPAN: usize = 130;

    fn new(first_micros: Option<i64>) -> DayWindow {
        let first = first_micros.map_or(0, |m| m.div_euclid(MICROS_PER_DAY)) - Self::BEFORE;
        DayWindow { first, counts: vec![0; Self::SPAN], far: BTreeMap::new() }
    }

    fn add(&mut self, day: i64) {
        match usize::try_from(day.wrapping_sub(self.first)).ok().and_then(|i| self.counts.get_mut(i)) {
            Some(count) => *count += 1,
            None => *self.far.entry(day).or_default() += 1,
        }
    }

    fn into_days(self) -> BTreeMap<i64, u64> {
        let mut days = self.far;
        for (i, n) in self.counts.into_iter().enumerate().filter(|(_, n)| *n > 0) {
            *days.entry(self.first + i as i64).or_default() += n;
        }
        days
    }
}

/// Pickups counted per month.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PickupTally {
    per_month: BTreeMap<YearMonth, u64>,
    /// Per month, the days (bit `day - 1`) with at least one pickup.
    days: BTreeMap<YearMonth, u32>,
    /// Rows without a pickup time (or one outside chrono's range).
    undated: u64,
}

/// A file whose rows mostly belong to another month than the one it is filed under.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "its rows belong to {belongs_to}, not {month}: {inside} of {dated} pickups fall in {month}, \
     {in_other} in {belongs_to} (the wrong file for {month}?)"
)]
pub struct WrongMonth {
    /// The month the file is filed under.
    pub month: YearMonth,
    /// The month most of its pickups fall in.
    pub belongs_to: YearMonth,
    /// Pickups inside `month`.
    pub inside: u64,
    /// Pickups inside `belongs_to`.
    pub in_other: u64,
    /// Rows with a pickup time.
    pub dated: u64,
}

impl PickupTally {
    /// Counts the pickups of `array`, a timestamp column of any unit (other types count as
    /// undated rows).
    pub fn add(&mut self, array: &dyn Array) {
        let micros = match array.data_type() {
            DataType::Timestamp(_, _) => cast(array, &DataType::Timestamp(TimeUnit::Microsecond, None))
                .and_then(|a| cast(&a, &DataType::Int64)),
            _ => {
                self.undated += array.len() as u64;
                return;
            }
        };
        let Ok(micros) = micros else {
            self.undated += array.len() as u64;
            return;
        };
        // Counted per day first, in a flat window of days around the batch's first pickup
        // (a file's pickups fall within a few weeks of each other), then each day converted
        // to its month once: a calendar conversion per row was 7% of the loader's CPU, and a
        // map entry per row (pickups out of order) 8%.
        let values = micros.as_primitive::<Int64Type>();
        let mut window = DayWindow::new(values.iter().flatten().next());
        for value in values.iter() {
            match value {
                Some(value) => window.add(value.div_euclid(MICROS_PER_DAY)),
                None => self.undated += 1,
            }
        }
        let per_day = window.into_days();
        for (day, n) in per_day {
            let date = DateTime::from_timestamp(day * 86_400, 0).map(|t| t.date_naive());
            match date.and_then(|d| Some((YearMonth::new(d.year(), d.month())?, d.day()))) {
                Some((month, day_of_month)) => {
                    *self.per_month.entry(month).or_default() += n;
                    *self.days.entry(month).or_default() |= 1 << (day_of_month - 1);
                }
                None => self.undated += n,
            }
        }
    }

    /// Adds the counts of `other` (another slice of the same file).
    pub fn merge(&mut self, other: PickupTally) {
        for (month, n) in other.per_month {
            *self.per_month.entry(month).or_default() += n;
        }
        for (month, days) in other.days {
            *self.days.entry(month).or_default() |= days;
        }
        self.undated += other.undated;
    }

    /// Rows with a pickup time.
    pub fn dated(&self) -> u64 {
        self.per_month.values().sum()
    }

    /// Rows whose pickup falls in `month`.
    pub fn inside(&self, month: YearMonth) -> u64 {
        self.per_month.get(&month).copied().unwrap_or(0)
    }

    /// The days of `month` with at least one pickup.
    pub fn days_covered(&self, month: YearMonth) -> u32 {
        self.days.get(&month).map_or(0, |bits| bits.count_ones())
    }

    /// A remark when the pickups of `month` cover less than half of its days: a fragment of
    /// the month (a sample, a cut file) rather than the month the TLC publishes.
    pub fn fragment_remark(&self, month: YearMonth) -> Option<String> {
        let covered = self.days_covered(month);
        (self.inside(month) > 0 && covered * 2 < month.days()).then(|| {
            format!(
                "its {} pickups in {month} fall on only {covered} of its {} days: a fragment of the month?",
                self.inside(month),
                month.days()
            )
        })
    }

    /// The month holding the most pickups, with their count.
    pub fn busiest(&self) -> Option<(YearMonth, u64)> {
        self.per_month.iter().max_by_key(|(m, n)| (**n, std::cmp::Reverse(**m))).map(|(m, n)| (*m, *n))
    }

    /// `Ok` when at least half of the dated rows fall in `month` (a file without any dated
    /// row is left to the other checks).
    pub fn check(&self, month: YearMonth) -> Result<(), WrongMonth> {
        let dated = self.dated();
        let inside = self.inside(month);
        if dated == 0 || inside * 2 >= dated {
            return Ok(());
        }
        let (belongs_to, in_other) = self.busiest().expect("dated > 0");
        Err(WrongMonth { month, belongs_to, inside, in_other, dated })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{TimestampMicrosecondArray, TimestampNanosecondArray};

    use super::*;

    fn micros(date: &str) -> i64 {
        chrono::NaiveDateTime::parse_from_str(date, "%Y-%m-%d %H:%M").unwrap().and_utc().timestamp_micros()
    }

    #[test]
    fn a_file_mostly_from_another_month_is_named_with_that_month() {
        let mut tally = PickupTally::default();
        let rows: Vec<Option<i64>> = (0..10)
            .map(|i| Some(micros(if i < 3 { "2023-02-10 12:00" } else { "2025-02-03 08:30" })))
            .chain([None])
            .collect();
        tally.add(&TimestampMicrosecondArray::from(rows));
        let feb23: YearMonth = "2023-02".parse().unwrap();
        let err = tally.check(feb23).unwrap_err();
        assert_eq!(err.belongs_to, "2025-02".parse().unwrap());
        assert_eq!((err.inside, err.in_other, err.dated), (3, 7, 10));
        assert!(err.to_string().starts_with("its rows belong to 2025-02, not 2023-02"), "{err}");
        assert!(tally.check("2025-02".parse().unwrap()).is_ok());
        let remark = tally.fragment_remark("2025-02".parse().unwrap()).unwrap();
        assert!(remark.contains("only 1 of its 28 days"), "{remark}");
    }

    #[test]
    fn stray_trips_and_any_unit_are_fine() {
        let mut tally = PickupTally::default();
        let ns = |d: &str| micros(d) * 1000;
        let array = Arc::new(TimestampNanosecondArray::from(vec![
            ns("2023-01-31 23:50"),
            ns("2023-02-01 00:10"),
            ns("2023-02-14 00:10"),
        ]));
        tally.add(array.as_ref());
        assert!(tally.check("2023-02".parse().unwrap()).is_ok());
        assert_eq!(tally.days_covered("2023-02".parse().unwrap()), 2);
        assert!(PickupTally::default().check("2023-02".parse().unwrap()).is_ok());
    }

    #[test]
    fn days_before_1970_and_runs_of_one_day_count_in_their_month() {
        let mut tally = PickupTally::default();
        let array = Arc::new(TimestampMicrosecondArray::from(vec![
            Some(micros("1969-12-31 23:59")),
            Some(micros("2023-02-03 10:00")),
            Some(micros("2023-02-03 11:00")),
            None,
            Some(micros("2023-02-04 00:00")),
            Some(micros("2023-02-03 12:00")),
        ]));
        tally.add(array.as_ref());
        assert_eq!(tally.inside("1969-12".parse().unwrap()), 1);
        assert_eq!(tally.inside("2023-02".parse().unwrap()), 4);
        assert_eq!(tally.days_covered("2023-02".parse().unwrap()), 2);
        assert_eq!(tally.dated(), 5);
    }

    #[test]
    fn pickups_far_from_the_first_one_are_counted_in_their_own_month() {
        let mut tally = PickupTally::default();
        let array = Arc::new(TimestampMicrosecondArray::from(vec![
            micros("2023-02-10 10:00"),
            micros("2022-11-30 10:00"),
            micros("2023-02-28 23:59"),
            micros("2023-09-01 00:00"),
            micros("2023-02-10 11:00"),
            micros("2022-12-01 00:00"),
        ]));
        tally.add(array.as_ref());
        let count = |m: &str| tally.inside(m.parse().unwrap());
        assert_eq!([count("2022-11"), count("2022-12"), count("2023-02"), count("2023-09")], [1, 1, 3, 1]);
        assert_eq!(tally.days_covered("2023-02".parse().unwrap()), 2);
        assert_eq!(tally.dated(), 6);
    }
}
