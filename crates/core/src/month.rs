//! Calendar months, the unit in which the TLC publishes trips and the pipeline moves them.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate, NaiveDateTime};

use crate::error::ParseError;

/// A calendar month such as `2023-01`: the TLC publishes one file per kind and month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    year: i32,
    month: u32,
}

impl YearMonth {
    /// A month, if `month` is 1 to 12 and the year is a four-digit year.
    pub fn new(year: i32, month: u32) -> Option<YearMonth> {
        ((1..=12).contains(&month) && (1000..=9999).contains(&year)).then_some(YearMonth { year, month })
    }

    /// The month that contains today's date (UTC).
    pub fn current() -> YearMonth {
        YearMonth::of(chrono::Utc::now().date_naive())
    }

    /// The month that contains `date`.
    pub fn of(date: NaiveDate) -> YearMonth {
        YearMonth { year: date.year(), month: date.month() }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    pub fn next(self) -> YearMonth {
        if self.month == 12 {
            YearMonth { year: self.year + 1, month: 1 }
        } else {
            YearMonth { year: self.year, month: self.month + 1 }
        }
    }

    pub fn prev(self) -> YearMonth {
        if self.month == 1 {
            YearMonth { year: self.year - 1, month: 12 }
        } else {
            YearMonth { year: self.year, month: self.month - 1 }
        }
    }

    /// Midnight of the first day of the month.
    pub fn start(self) -> NaiveDateTime {
        self.first_day().and_hms_opt(0, 0, 0).expect("midnight exists")
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("validated month")
    }

    pub fn days(self) -> u32 {
        (self.next().first_day() - self.first_day()).num_days() as u32
    }

    /// `YYYYMM`, e.g. 202301: the mart's `month_id` (and the warehouse's month lock key).
    pub fn id(self) -> i32 {
        self.year * 100 + self.month as i32
    }

    /// The month a `YYYYMM` id names; `None` when it names none (e.g. 202313).
    pub fn from_id(id: i32) -> Option<YearMonth> {
        u32::try_from(id % 100).ok().and_then(|month| YearMonth::new(id / 100, month))
    }

    /// `YYYYMMDD` of the month's first day: the mart's `date_id` of it.
    pub fn first_date_id(self) -> i32 {
        self.id() * 100 + 1
    }

    /// `true` when `t` falls inside this month.
    pub fn contains(self, t: NaiveDateTime) -> bool {
        t >= self.start() && t < self.next().start()
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for YearMonth {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseError::Month(s.to_owned());
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year = y.parse().map_err(|_| bad())?;
        let month = m.parse().map_err(|_| bad())?;
        YearMonth::new(year, month).ok_or_else(bad)
    }
}

/// An inclusive range of months, written `2023-01..2023-08` (or a single `2023-03`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthRange {
    first: YearMonth,
    last: YearMonth,
}

impl MonthRange {
    /// The months from `first` to `last`, both included; `None` when `last` is before `first`.
    pub fn new(first: YearMonth, last: YearMonth) -> Option<MonthRange> {
        (first <= last).then_some(MonthRange { first, last })
    }

    pub fn single(month: YearMonth) -> MonthRange {
        MonthRange { first: month, last: month }
    }

    pub fn first(&self) -> YearMonth {
        self.first
    }

    pub fn last(&self) -> YearMonth {
        self.last
    }

    pub fn contains(&self, month: YearMonth) -> bool {
        self.first <= month && month <= self.last
    }

    pub fn len(&self) -> usize {
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn iter(&self) -> impl Iterator<Item = YearMonth> + use<> {
        let last = self.last;
        std::iter::successors(Some(self.first), move |m| Some(m.next()).filter(|n| *n <= last))
    }
}

impl IntoIterator for MonthRange {
    type Item = YearMonth;
    type IntoIter = Box<dyn Iterator<Item = YearMonth>>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl fmt::Display for MonthRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}..{}", self.first, self.last)
        }
    }
}

impl FromStr for MonthRange {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once("..") {
            None => Ok(MonthRange::single(s.parse()?)),
            Some((a, b)) => {
                let (first, last) = (a.parse()?, b.parse()?);
                MonthRange::new(first, last).ok_or_else(|| ParseError::Range(s.to_owned()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_months() {
        let m: YearMonth = "2023-01".parse().unwrap();
        assert_eq!((m.year(), m.month()), (2023, 1));
        assert_eq!(m.to_string(), "2023-01");
        for bad in ["2023-13", "2023-1", "23-01", "2023/01", "", "2023-00", "abcd-ef"] {
            assert!(bad.parse::<YearMonth>().is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn steps_across_years() {
        let dec: YearMonth = "2022-12".parse().unwrap();
        assert_eq!(dec.next().to_string(), "2023-01");
        assert_eq!(dec.next().prev(), dec);
        assert_eq!("2024-02".parse::<YearMonth>().unwrap().days(), 29);
    }

    #[test]
    fn month_ids_go_both_ways() {
        let m: YearMonth = "2023-01".parse().unwrap();
        assert_eq!(m.id(), 202301);
        assert_eq!(m.first_date_id(), 20230101);
        assert_eq!(YearMonth::from_id(202312), Some("2023-12".parse().unwrap()));
        for bad in [202300, 202313, -202301, 0, 99] {
            assert_eq!(YearMonth::from_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn ranges_are_inclusive() {
        let r: MonthRange = "2022-11..2023-02".parse().unwrap();
        let months: Vec<String> = r.iter().map(|m| m.to_string()).collect();
        assert_eq!(months, ["2022-11", "2022-12", "2023-01", "2023-02"]);
        assert_eq!(r.to_string(), "2022-11..2023-02");
        assert_eq!("2023-03".parse::<MonthRange>().unwrap().len(), 1);
        assert!("2023-03..2023-01".parse::<MonthRange>().is_err());
    }
}
