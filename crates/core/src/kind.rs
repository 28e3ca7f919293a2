//! The kinds of trip the TLC publishes, and where each month of them lives.

use std::fmt;
use std::str::FromStr;

use crate::error::ParseError;
use crate::month::{MonthRange, YearMonth};

/// A TLC trip record series. Each kind has its own file per month and its own columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TripKind {
    /// Yellow medallion taxis (street hail, Manhattan-centric).
    Yellow,
    /// Green "boro" taxis (street hail outside central Manhattan).
    Green,
    /// For-hire vehicles (dispatched livery, black cars).
    Fhv,
    /// High-volume for-hire services (the ride-hailing apps).
    Fhvhv,
}

impl TripKind {
    pub const ALL: [TripKind; 4] = [TripKind::Yellow, TripKind::Green, TripKind::Fhv, TripKind::Fhvhv];

    /// The name the TLC uses in file names: `yellow`, `green`, `fhv`, `fhvhv`.
    pub fn as_str(self) -> &'static str {
        match self {
            TripKind::Yellow => "yellow",
            TripKind::Green => "green",
            TripKind::Fhv => "fhv",
            TripKind::Fhvhv => "fhvhv",
        }
    }

    /// The for-hire services (fhv, fhvhv), whose files share little with the taxis'.
    pub fn is_for_hire(self) -> bool {
        matches!(self, TripKind::Fhv | TripKind::Fhvhv)
    }

    /// The first month the TLC published of this kind.
    pub fn first_month(self) -> YearMonth {
        let (year, month) = match self {
            TripKind::Yellow => (2009, 1),
            TripKind::Green => (2013, 8),
            TripKind::Fhv => (2015, 1),
            TripKind::Fhvhv => (2019, 2),
        };
        YearMonth::new(year, month).expect("a valid month")
    }

    /// The months of `range` this kind was published for (`None`: it began after them).
    pub fn published_part(self, range: MonthRange) -> Option<MonthRange> {
        MonthRange::new(range.first().max(self.first_month()), range.last())
    }

    /// `yellow_tripdata_2023-01.parquet`
    pub fn file_name(self, month: YearMonth) -> String {
        format!("{}_tripdata_{month}.parquet", self.as_str())
    }
}

impl fmt::Display for TripKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TripKind {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TripKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseError::Kind(s.to_owned()))
    }
}

/// What `--kind` selects: one kind, or `all` four (each run in turn, taxis first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kinds {
    One(TripKind),
    All,
}

impl Kinds {
    pub fn kinds(self) -> Vec<TripKind> {
        match self {
            Kinds::One(kind) => vec![kind],
            Kinds::All => TripKind::ALL.to_vec(),
        }
    }
}

impl fmt::Display for Kinds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kinds::One(kind) => kind.fmt(f),
            Kinds::All => f.write_str("all"),
        }
    }
}

impl FromStr for Kinds {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().eq_ignore_ascii_case("all") {
            return Ok(Kinds::All);
        }
        s.parse().map(Kinds::One)
    }
}

/// One published trip file: a kind and a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TripFile {
    pub kind: TripKind,
    pub month: YearMonth,
}

/// Path of the zone table under the source base URL and in the lake.
pub const ZONES_SOURCE_PATH: &str = "misc/taxi_zone_lookup.csv";
/// Key of the zone table in the lake.
pub const ZONES_LAKE_KEY: &str = "reference/taxi_zone_lookup.csv";
/// Path of the zone shapefile archive under the source base URL.
pub const ZONE_SHAPES_SOURCE_PATH: &str = "misc/taxi_zones.zip";
/// Key of the zone shapefile archive in the lake.
pub const ZONE_SHAPES_LAKE_KEY: &str = "reference/taxi_zones.zip";
/// Key of the TLC's monthly indicators in the lake (fetched from `source.indicators_url`).
pub const INDICATORS_LAKE_KEY: &str = "reference/data_reports_monthly.csv";

impl TripFile {
    pub fn new(kind: TripKind, month: YearMonth) -> TripFile {
        TripFile { kind, month }
    }

    pub fn file_name(&self) -> String {
        self.kind.file_name(self.month)
    }

    /// The file's path under the source base URL: `trip-data/yellow_tripdata_2023-01.parquet`.
    pub fn source_path(&self) -> String {
        format!("trip-data/{}", self.file_name())
    }

    /// The file's URL on a TLC-shaped server (the CDN or a mirror).
    pub fn source_url(&self, base_url: &str) -> String {
        format!("{}/{}", base_url.trim_end_matches('/'), self.source_path())
    }

    /// The object key in the lake: `yellow/2023/yellow_tripdata_2023-01.parquet`.
    pub fn lake_key(&self) -> String {
        format!("{}/{:04}/{}", self.kind, self.month.year(), self.file_name())
    }

    /// The trip file a lake key names, if it follows the lake layout.
    pub fn from_lake_key(key: &str) -> Option<TripFile> {
        let mut parts = key.split('/');
        let (kind, year, name) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let kind: TripKind = kind.parse().ok()?;
        let month: YearMonth =
            name.strip_prefix(&format!("{kind}_tripdata_"))?.strip_suffix(".parquet")?.parse().ok()?;
        (format!("{:04}", month.year()) == year).then_some(TripFile { kind, month })
    }
}

impl fmt::Display for TripFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_cdn_and_lake_layouts() {
        let f = TripFile::new(TripKind::Yellow, "2023-01".parse().unwrap());
        assert_eq!(
            f.source_url("https://d37ci6vzurychx.cloudfront.net/"),
            "https://d37ci6vzurychx.cloudfront.net/trip-data/yellow_tripdata_2023-01.parquet"
        );
        assert_eq!(f.lake_key(), "yellow/2023/yellow_tripdata_2023-01.parquet");
        assert_eq!(TripFile::from_lake_key(&f.lake_key()), Some(f));
        assert_eq!(TripFile::from_lake_key("yellow/2022/yellow_tripdata_2023-01.parquet"), None);
        assert_eq!(TripFile::from_lake_key(ZONES_LAKE_KEY), None);
    }

    #[test]
    fn kinds_parse_case_insensitively() {
        assert_eq!("Green".parse::<TripKind>().unwrap(), TripKind::Green);
        assert!("blue".parse::<TripKind>().is_err());
    }

    #[test]
    fn all_selects_every_kind_and_ranges_start_at_each_kinds_first_month() {
        assert_eq!("ALL".parse::<Kinds>().unwrap().kinds(), TripKind::ALL);
        assert_eq!("fhvhv".parse::<Kinds>().unwrap(), Kinds::One(TripKind::Fhvhv));
        let err = "uber".parse::<Kinds>().unwrap_err().to_string();
        assert!(err.contains("or all"), "{err}");
        let range: MonthRange = "2018-11..2019-03".parse().unwrap();
        assert_eq!(TripKind::Fhvhv.published_part(range).unwrap().to_string(), "2019-02..2019-03");
        assert_eq!(TripKind::Green.published_part(range), Some(range));
        assert_eq!(TripKind::Fhvhv.published_part("2018-01..2018-12".parse().unwrap()), None);
    }
}
