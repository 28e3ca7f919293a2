// Over 400 lines: the roll-ups' engine, the SQL made from it and the taxis' declarations
// belong together; a fifth of the file is their tests.
//! A month's roll-ups (insertion.sql step 4), declared once: small tables of groups every
//! aggregate table of the month, and the fact's totals in build_log, are summed from; the
//! taxis' three here ([`TAXI_ROLLUPS`]), the for-hire fact's in
//! [`super::for_hire::FOR_HIRE_ROLLUPS`]. Two things are derived from a [`RollupSet`]:
//! - the SQL of insertion.sql's `GENERATED rollups` region ([`sql`]), and of
//!   insertion_for_hire.sql's `for_hire_rollups`: per roll-up, a `CREATE TEMP TABLE IF NOT
//!   EXISTS ... AS SELECT ... GROUP BY` over the month's build table;
//! - [`Rollups`], which sums the same groups from the fact rows as the stream writes them.
//!   atl-mart then makes the three temporary tables itself, in the month's transaction, with
//!   the types the SELECT would give them, and fills them (a few thousand rows): insertion.sql
//!   finds them made and skips its three passes over the new month (1.4 s of a 3 M-row
//!   month, measured). By hand, psql users have no such tables and the SELECTs run.

use rustc_hash::FxHashMap;

use super::code_counts::{self, CodeCounts, CodeRollup};
use super::{Conv, FACT};

/// One fact's roll-ups: the fact's columns and build table, and whether a rate code makes an
/// airport trip.
#[derive(Debug, Clone, Copy)]
pub struct RollupSet {
    pub rollups: &'static [Rollup],
    pub columns: &'static [(&'static str, Conv)],
    pub build: &'static str,
    pub airport_rate_code: bool,
    /// The roll-ups keyed by a text code ([`super::code_counts`]).
    pub codes: &'static [CodeRollup],
}

/// The taxis' roll-ups, over `mart.fact_trip_build`.
pub const TAXI_ROLLUPS: RollupSet = RollupSet {
    rollups: ROLLUPS,
    columns: FACT,
    build: "mart.fact_trip_build",
    airport_rate_code: true,
    codes: &[],
};

/// One roll-up: a temporary table of the month's fact rows grouped by `keys`: each the
/// table's column and the fact column it is, in dollars (or miles) for a column of cents.
#[derive(Debug, Clone, Copy)]
pub struct Rollup {
    pub table: &'static str,
    pub keys: &'static [(&'static str, &'static str)],
    pub measures: &'static [(&'static str, Measure)],
    /// Only the rows where this fact column is not NULL.
    pub only_with: Option<&'static str>,
    /// Keys given in bins: (key, step, cap) is `least(column / step * step, cap)`.
    pub bins: &'static [(&'static str, i64, i64)],
    /// Keys that are the pickup borough of their zone column ([`PICKUP_BOROUGH`]), so that
    /// every aggregate can be read for one borough.
    pub boroughs: &'static [&'static str],
}

/// The SQL function giving a zone's borough (migration 0010): the `Unknown` borough for a
/// NULL zone, as [`ZoneBoroughs::of`] does.
pub const PICKUP_BOROUGH: &str = "mart.pickup_borough";

/// The pickup borough of zone column `c` in a roll-up: [`PICKUP_BOROUGH`]'s answer, read from
/// `mart.zone_boroughs()` (migration 0012), which each statement evaluates once, where a
/// call of [`PICKUP_BOROUGH`] per row costs ~13 µs.
pub fn pickup_borough_sql(c: &str) -> String {
    format!("coalesce((SELECT mart.zone_boroughs())[{c} + 1], (SELECT {PICKUP_BOROUGH}(NULL)))")
}

/// `mart.dim_zone`'s boroughs as the stream looks them up, read in the month's transaction
/// after `mart.refresh_zones()`, so that the stream and [`PICKUP_BOROUGH`] agree.
#[derive(Debug, Clone, Default)]
pub struct ZoneBoroughs {
    /// By zone id; `None` for an id `mart.dim_zone` does not hold.
    pub by_zone: Vec<Option<i64>>,
    /// The `Unknown` borough: that of a NULL zone or one the table does not hold.
    pub unknown: i64,
}

impl ZoneBoroughs {
    pub fn of(&self, zone: Option<i64>) -> i64 {
        zone.and_then(|z| usize::try_from(z).ok())
            .and_then(|z| self.by_zone.get(z).copied().flatten())
            .unwrap_or(self.unknown)
    }
}

/// What a roll-up column holds for each group.
#[derive(Debug, Clone, Copy)]
pub enum Measure {
    /// `count(*)`.
    Count,
    /// `sum(column)`, in dollars for a column of cents: NULL when the group has no value of it.
    Sum(&'static str),
    /// The trips that start or end in an airport zone ([`AIRPORT_ZONES`]) or, where the fact
    /// has one ([`RollupSet::airport_rate_code`]), are charged an airport rate
    /// ([`AIRPORT_RATE_CODES`]).
    AirportTrips,
    /// `count(column)`: the rows where it is not NULL.
    CountOf(&'static str),
    /// `count(*) FILTER (WHERE column)`, of a boolean column.
    CountTrue(&'static str),
    /// `count(*) FILTER (WHERE column > 0)`: the trips charged a fee.
    CountPositive(&'static str),
}

/// JFK (132), LaGuardia (138) and Newark (1) in the zone table.
pub const AIRPORT_ZONES: &[i64] = &[1, 132, 138];
/// Rate codes 2 (JFK) and 3 (Newark).
pub const AIRPORT_RATE_CODES: &[i64] = &[2, 3];
const AIRPORT_ZONE_COLUMNS: [&str; 2] = ["pu_zone_id", "do_zone_id"];
const RATE_CODE_COLUMN: &str = "rate_code_id";

/// The roll-ups. Their groups are bounded by the dimensions (31 days x 24 hours x 8 payment
/// types; 265 zones x 8; 50,000 distances).
pub const ROLLUPS: &[Rollup] = &[
    Rollup {
        table: "rollup_day_hour_payment",
        keys: &[
            ("pickup_date_id", "pickup_date_id"),
            ("pickup_hour", "pickup_hour"),
            ("payment_type_id", "payment_type_id"),
            ("pu_borough_id", "pu_zone_id"),
        ],
        measures: &[
            ("trips", Measure::Count),
            ("revenue", Measure::Sum("total_amount_cents")),
            ("fare_sum", Measure::Sum("fare_amount_cents")),
            ("tip_sum", Measure::Sum("tip_amount_cents")),
            ("duration_sec_sum", Measure::Sum("duration_sec")),
            ("distance_sum", Measure::Sum("trip_distance_hundredths")),
            ("airport_trips", Measure::AirportTrips),
            ("cbd_trips", Measure::CountPositive("cbd_congestion_fee_cents")),
            ("cbd_fee_sum", Measure::Sum("cbd_congestion_fee_cents")),
        ],
        only_with: None,
        bins: &[],
        boroughs: &["pu_borough_id"],
    },
    Rollup {
        table: "rollup_zone_payment",
        keys: &[("pu_zone_id", "pu_zone_id"), ("payment_type_id", "payment_type_id")],
        measures: &[
            ("trips", Measure::Count),
            ("revenue", Measure::Sum("total_amount_cents")),
            ("fare_sum", Measure::Sum("fare_amount_cents")),
            ("tip_sum", Measure::Sum("tip_amount_cents")),
        ],
        only_with: None,
        bins: &[],
        boroughs: &[],
    },
    Rollup {
        table: "rollup_distance",
        keys: &[("trip_distance", "trip_distance_hundredths"), ("pu_borough_id", "pu_zone_id")],
        measures: &[("trips", Measure::Count), ("fare_sum", Measure::Sum("fare_amount_cents"))],
        only_with: None,
        bins: &[DISTANCE_BIN],
        boroughs: &["pu_borough_id"],
    },
];

/// The half-mile bins of `mart.agg_fare_distance`, in hundredths, the last holding every trip of
/// 30 miles or more: binned as the stream counts, a month has 61 distances, not thousands.
pub const DISTANCE_BIN: (&str, i64, i64) = ("trip_distance", 50, 3000);

/// The most keys a roll-up may have (the groups' key is a fixed array).
const MAX_KEYS: usize = 4;

/// A group's key values (0 for NULL) and which of them are NULL, one bit each: a quarter of
/// the bytes to hash and compare of `[Option<i64>; MAX_KEYS]`. A key is a smallint or integer
/// fact column ([`Conv::sql_type`] of a number column), a bin of one or a borough id, so i32
/// holds it; one that did not would be recorded ([`Rollups::tables`] then refuses). The map
/// lookup is among the stream's biggest costs (a quarter of atl-mart's samples on a
/// high-volume month, most of it waiting on memory), so its key is kept small.
type GroupKey = ([i32; MAX_KEYS], u8);

/// How a fact column's value is held while summing: whole numbers, or cents (hundredths),
/// which the roll-ups give in dollars (miles) as a numeric of scale 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Whole,
    Cents,
}

/// The fact column `name`: its position in `columns` and its unit; `None` for a column that
/// is not a number (a timestamp, a text) or no column at all. A flag is a number here, 1 or 0.
fn fact_column(columns: &[(&str, Conv)], name: &str) -> Option<(usize, Unit, Conv)> {
    let at = columns.iter().position(|(n, _)| *n == name)?;
    let conv = columns[at].1;
    let unit = match conv {
        Conv::Cents(..) | Conv::CentsSum(_) => Unit::Cents,
        Conv::Service
        | Conv::Kind
        | Conv::Licence(_)
        | Conv::DateId(_)
        | Conv::Hour(_)
        | Conv::Int(_)
        | Conv::Zone(_)
        | Conv::IntIn(..)
        | Conv::Member(..)
        | Conv::WholeIn(..)
        | Conv::Seconds(..)
        | Conv::SecondsWithinDay(..)
        | Conv::Flag(_)
        | Conv::LooseFlag(_)
        | Conv::FlagOr(..) => Unit::Whole,
        Conv::Same(_) | Conv::Code(_) => return None,
    };
    Some((at, unit, conv))
}

/// The SQL of the `rollups` region of insertion.sql (of `for_hire_rollups` in
/// insertion_for_hire.sql for the for-hire set).
pub fn sql(set: &RollupSet) -> String {
    let mut out = String::new();
    let in_dollars = |column: &str, expression: &str, name: &str| in_dollars(set, column, expression, name);
    for (i, r) in set.rollups.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let binned = |name: &str, c: &str| {
            r.bins
                .iter()
                .find(|(k, ..)| *k == name)
                .map(|(_, step, cap)| format!("least({c} / {step} * {step}, {cap})"))
        };
        let expression = |name: &str, c: &str| {
            if r.boroughs.contains(&name) {
                pickup_borough_sql(c)
            } else {
                binned(name, c).unwrap_or_else(|| c.to_owned())
            }
        };
        let keys: Vec<String> =
            r.keys.iter().map(|(name, c)| in_dollars(c, &expression(name, c), name)).collect();
        let group: Vec<String> = r.keys.iter().map(|(name, c)| expression(name, c)).collect();
        let measures: Vec<String> = r
            .measures
            .iter()
            .map(|(name, m)| match m {
                Measure::Count => format!("count(*) AS {name}"),
                Measure::Sum(c) => in_dollars(c, &format!("sum({c})"), name),
                Measure::AirportTrips => format!("{} AS {name}", airport_count(set)),
                Measure::CountOf(c) => format!("count({c}) AS {name}"),
                Measure::CountTrue(c) => format!("count(*) FILTER (WHERE {c}) AS {name}"),
                Measure::CountPositive(c) => format!("count(*) FILTER (WHERE {c} > 0) AS {name}"),
            })
            .collect();
        let filter = r.only_with.map(|c| format!("WHERE {c} IS NOT NULL\n")).unwrap_or_default();
        out.push_str(&format!(
            "CREATE TEMP TABLE IF NOT EXISTS {} ON COMMIT DROP AS\nSELECT {},\n       {}\nFROM {}\n{filter}GROUP BY {};\n",
            r.table,
            keys.join(", "),
            measures.join(",\n       "),
            set.build,
            group.join(", ")
        ));
    }
    for code in set.codes {
        out.push('\n');
        out.push_str(&code_counts::sql(code, set.build));
    }
    out
}

/// `expression AS name`, times 0.01 when `column`, which it is of, holds cents; just the
/// column when it is named as it is.
fn in_dollars(set: &RollupSet, column: &str, expression: &str, name: &str) -> String {
    match fact_column(set.columns, column) {
        Some((_, Unit::Cents, _)) => format!("{expression} * 0.01 AS {name}"),
        _ if expression == name => name.to_owned(),
        _ => format!("{expression} AS {name}"),
    }
}

fn airport_count(set: &RollupSet) -> String {
    let list = |v: &[i64]| v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    let zones: Vec<String> =
        AIRPORT_ZONE_COLUMNS.iter().map(|c| format!("{c} IN ({})", list(AIRPORT_ZONES))).collect();
    if !set.airport_rate_code {
        return format!("count(*) FILTER (WHERE {})", zones.join(" OR "));
    }
    format!(
        "count(*) FILTER (WHERE {}\n                              OR {RATE_CODE_COLUMN} IN ({}))",
        zones.join(" OR "),
        list(AIRPORT_RATE_CODES)
    )
}

/// A roll-up resolved to positions in the fact row, with its groups so far.
#[derive(Debug)]
struct Part {
    rollup: Rollup,
    /// The fact column a row must have (not NULL) to count.
    only_with: Option<usize>,
    keys: Vec<(usize, Unit)>,
    /// Per key: its bin (step, cap), if binned.
    bins: Vec<Option<(i64, i64)>>,
    /// Per key: whether it is its zone's borough.
    boroughs: Vec<bool>,
    /// Per measure: the fact column summed (`None`: a count) and its unit.
    measures: Vec<(Measure, Option<(usize, Unit)>)>,
    /// Each group's first sum in `sums`, by its [`GroupKey`].
    groups: FxHashMap<GroupKey, usize>,
    /// The groups' sums, `measures.len()` per group, in a flat vector: the distance roll-up
    /// has up to 50,000 groups, and a fixed array of eight 32-byte sums per group made its
    /// map about 15 MB (the map's lookup was a fifth of atl-mart's perf samples; `add` 15 %
    /// faster since, measured once on 3 M generated rows).
    /// In i64, half the bytes of i128 (the day-hour roll-up of a for-hire month has tens of
    /// thousands of groups of 18 sums, and its rows land on them at random): every value is
    /// a fact column's smallint or integer, so a month of under 2^32 rows cannot overflow a
    /// sum; one that did is recorded ([`Rollups::tables`] then refuses).
    sums: Vec<i64>,
    overflowed: bool,
    /// Beside each sum: whether it has summed a value (SQL's sum of no values is NULL).
    summed: Vec<bool>,
}

/// The roll-ups of one month, summed row by row from the fact rows the stream writes
/// ([`super::row::Cleaner::write_fact`]'s values).
#[derive(Debug)]
pub struct Rollups {
    parts: Vec<Part>,
    columns: &'static [(&'static str, Conv)],
    airport: [usize; 2],
    airport_rate: Option<usize>,
    zones: ZoneBoroughs,
    codes: Vec<CodeCounts>,
}

impl Rollups {
    /// Resolves the set's roll-ups against its fact's columns; an error names a column that
    /// is not a number of the fact.
    pub fn new(set: &RollupSet, zones: ZoneBoroughs) -> Result<Rollups, String> {
        let column = |name: &str| {
            fact_column(set.columns, name)
                .ok_or_else(|| format!("the roll-ups use {name}, not a number column of the fact"))
        };
        let mut parts = Vec::new();
        for r in set.rollups {
            if r.keys.len() > MAX_KEYS {
                return Err(format!("{} has more keys than the stream sums ({MAX_KEYS})", r.table));
            }
            let keys = r
                .keys
                .iter()
                .map(|(_, k)| column(k).map(|(at, unit, _)| (at, unit)))
                .collect::<Result<_, _>>()?;
            let measures = r
                .measures
                .iter()
                .map(|(_, m)| match m {
                    Measure::Sum(c)
                    | Measure::CountOf(c)
                    | Measure::CountTrue(c)
                    | Measure::CountPositive(c) => column(c).map(|(at, unit, _)| (*m, Some((at, unit)))),
                    Measure::Count | Measure::AirportTrips => Ok((*m, None)),
                })
                .collect::<Result<_, _>>()?;
            let only_with = r.only_with.map(|c| column(c).map(|(at, _, _)| at)).transpose()?;
            let bins = r
                .keys
                .iter()
                .map(|(name, _)| r.bins.iter().find(|(k, ..)| k == name).map(|(_, s, c)| (*s, *c)))
                .collect();
            let boroughs = r.keys.iter().map(|(name, _)| r.boroughs.contains(name)).collect();
            parts.push(Part {
                rollup: *r,
                only_with,
                bins,
                boroughs,
                keys,
                measures,
                groups: FxHashMap::default(),
                sums: Vec::new(),
                overflowed: false,
                summed: Vec::new(),
            });
        }
        let [pu, du] = AIRPORT_ZONE_COLUMNS.map(|c| column(c).map(|(at, _, _)| at));
        let airport = [pu?, du?];
        let airport_rate = if set.airport_rate_code { Some(column(RATE_CODE_COLUMN)?.0) } else { None };
        let codes = set.codes.iter().map(|c| CodeCounts::new(c, set.columns)).collect::<Result<_, _>>()?;
        Ok(Rollups { parts, columns: set.columns, airport, airport_rate, zones, codes })
    }

    /// Counts one fact row in the code roll-ups: `code(i)` is fact column `i`'s code before
    /// upper-casing ([`super::row::Cleaner::code`]).
    pub fn add_codes<'r>(&mut self, code: impl Fn(usize) -> Option<&'r [u8]> + Copy, values: &[Option<i64>]) {
        for counts in &mut self.codes {
            counts.add(code, values);
        }
    }

    /// Counts one fact row: `values` holds each fact column as [`Unit`] (`None`: NULL or
    /// not a number).
    pub fn add(&mut self, values: &[Option<i64>]) {
        // SQL's `x IN (...)`: a NULL is in no list.
        let listed = |at: usize, list: &[i64]| values[at].is_some_and(|v| list.contains(&v));
        let is_airport = listed(self.airport[0], AIRPORT_ZONES)
            || listed(self.airport[1], AIRPORT_ZONES)
            || self.airport_rate.is_some_and(|at| listed(at, AIRPORT_RATE_CODES));
        for part in &mut self.parts {
            if part.only_with.is_some_and(|at| values[at].is_none()) {
                continue;
            }
            let mut key: GroupKey = ([0; MAX_KEYS], 0);
            for (i, (at, _)) in part.keys.iter().enumerate() {
                let value = if part.boroughs[i] {
                    self.zones.of(values[*at])
                } else {
                    match values[*at] {
                        Some(v) => match part.bins[i] {
                            Some((step, cap)) => (v / step * step).min(cap),
                            None => v,
                        },
                        None => {
                            key.1 |= 1 << i;
                            continue;
                        }
                    }
                };
                match i32::try_from(value) {
                    Ok(v) => key.0[i] = v,
                    Err(_) => part.overflowed = true,
                }
            }
            let width = part.measures.len();
            let next = part.sums.len();
            let at = *part.groups.entry(key).or_insert(next);
            if at == next {
                part.sums.resize(next + width, 0);
                part.summed.resize(next + width, false);
            }
            let sums = part.sums[at..at + width].iter_mut().zip(&mut part.summed[at..at + width]);
            for ((sum, summed), (measure, column)) in sums.zip(&part.measures) {
                let add = match (measure, column) {
                    (Measure::Count, _) => Some(1),
                    (Measure::AirportTrips, _) => Some(i64::from(is_airport)),
                    (Measure::CountOf(_), Some((at, _))) => Some(i64::from(values[*at].is_some())),
                    (Measure::CountTrue(_), Some((at, _))) => Some(i64::from(values[*at] == Some(1))),
                    (Measure::CountPositive(_), Some((at, _))) => {
                        Some(i64::from(values[*at].is_some_and(|v| v > 0)))
                    }
                    (Measure::CountOf(_) | Measure::CountTrue(_) | Measure::CountPositive(_), None) => None,
                    (Measure::Sum(_), Some((at, _))) => values[*at],
                    (Measure::Sum(_), None) => None,
                };
                if let Some(v) = add {
                    match sum.checked_add(v) {
                        Some(total) => *sum = total,
                        None => part.overflowed = true,
                    }
                    *summed = true;
                }
            }
        }
    }

    /// The rows counted: the first roll-up's first count (every roll-up counts every row).
    pub fn trips(&self) -> i128 {
        let Some(part) = self.parts.first() else { return 0 };
        let Some(at) = part.measures.iter().position(|(m, _)| matches!(m, Measure::Count)) else { return 0 };
        part.groups.values().map(|first| i128::from(part.sums[first + at])).sum()
    }

    /// Per roll-up: the CREATE TEMP TABLE statement (the column types the SELECT of [`sql`]
    /// gives: the fact's for a key, numeric for a sum of cents, bigint otherwise), the COPY
    /// statement, and its rows in COPY's text form; the code roll-ups' last, or an error for
    /// a code COPY's text form cannot carry.
    pub fn tables(&self) -> Result<Vec<(String, String, String)>, String> {
        if let Some(p) = self.parts.iter().find(|p| p.overflowed) {
            return Err(format!("{}: a key beyond 32 bits or a sum beyond 64", p.rollup.table));
        }
        let numbers = self.parts.iter().map(|p| Ok(p.table(self.columns)));
        numbers.chain(self.codes.iter().map(CodeCounts::table)).collect()
    }
}

impl Part {
    fn table(&self, fact: &[(&str, Conv)]) -> (String, String, String) {
        let mut columns: Vec<String> = self
            .rollup
            .keys
            .iter()
            .zip(&self.keys)
            .zip(&self.boroughs)
            .map(|(((name, _), (at, unit)), borough)| match unit {
                // mart.dim_borough.borough_id.
                _ if *borough => format!("{name} integer"),
                Unit::Cents => format!("{name} numeric"),
                Unit::Whole => format!("{name} {}", fact[*at].1.sql_type("")),
            })
            .collect();
        for ((name, _), (measure, column)) in self.rollup.measures.iter().zip(&self.measures) {
            // sum(smallint or integer) is bigint; the fact has no bigint number to sum (a
            // `Conv::Same` column is not a number here, see `fact_column`).
            let ty = match measure_unit(*measure, *column) {
                Unit::Cents => "numeric",
                Unit::Whole => "bigint",
            };
            columns.push(format!("{name} {ty}"));
        }
        let create =
            format!("CREATE TEMP TABLE {} ({}) ON COMMIT DROP", self.rollup.table, columns.join(", "));
        let copy = format!("COPY {} FROM STDIN", self.rollup.table);
        let mut rows = String::new();
        let width = self.measures.len();
        for ((values, nulls), first) in &self.groups {
            let keys =
                values.iter().zip(&self.keys).enumerate().map(|(i, (v, (_, unit)))| {
                    text((nulls & (1 << i) == 0).then_some(i128::from(*v)), *unit)
                });
            let sums = self.sums[*first..*first + width].iter().zip(&self.summed[*first..*first + width]);
            let measures = sums
                .zip(&self.measures)
                .map(|((v, summed), (m, c))| text(summed.then_some(i128::from(*v)), measure_unit(*m, *c)));
            rows.push_str(&keys.chain(measures).collect::<Vec<_>>().join("\t"));
            rows.push('\n');
        }
        (create, copy, rows)
    }
}

/// The unit of a measure's values: cents for a sum of cents, whole numbers for the rest
/// (counts included, whatever they count).
fn measure_unit(measure: Measure, column: Option<(usize, Unit)>) -> Unit {
    match (measure, column) {
        (Measure::Sum(_), Some((_, unit))) => unit,
        _ => Unit::Whole,
    }
}

/// A value in COPY's text form: `\N` for NULL, cents as a decimal of scale 2.
fn text(value: Option<i128>, unit: Unit) -> String {
    match (value, unit) {
        (None, _) => "\\N".into(),
        (Some(v), Unit::Whole) => v.to_string(),
        (Some(v), Unit::Cents) => {
            let sign = if v < 0 { "-" } else { "" };
            format!("{sign}{}.{:02}", v.unsigned_abs() / 100, v.unsigned_abs() % 100)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        date: i64,
        hour: i64,
        payment: i64,
        zones: (i64, i64),
        rate: i64,
        money: [Option<i64>; 3],
    ) -> Vec<Option<i64>> {
        let mut values = vec![None; FACT.len()];
        let mut set = |name: &str, v: Option<i64>| values[fact_column(FACT, name).unwrap().0] = v;
        set("pickup_date_id", Some(date));
        set("pickup_hour", Some(hour));
        set("payment_type_id", Some(payment));
        set("pu_zone_id", Some(zones.0));
        set("do_zone_id", Some(zones.1));
        set("rate_code_id", Some(rate));
        set("total_amount_cents", money[0]);
        set("fare_amount_cents", money[1]);
        set("tip_amount_cents", money[2]);
        set("duration_sec", Some(600));
        set("trip_distance_hundredths", Some(250));
        values
    }

    /// Zone 4 in borough 1, 132 in borough 2; the Unknown borough is 9.
    fn zones() -> ZoneBoroughs {
        let mut by_zone = vec![None; 266];
        by_zone[4] = Some(1);
        by_zone[132] = Some(2);
        ZoneBoroughs { by_zone, unknown: 9 }
    }

    #[test]
    fn a_zone_s_borough_is_looked_up_and_the_rest_are_unknown() {
        let z = zones();
        assert_eq!(
            [z.of(Some(4)), z.of(Some(132)), z.of(Some(5)), z.of(Some(999)), z.of(Some(-1)), z.of(None)],
            [1, 2, 9, 9, 9, 9]
        );
    }

    #[test]
    fn a_sum_beyond_64_bits_is_refused_not_wrapped() {
        let mut r = Rollups::new(&TAXI_ROLLUPS, zones()).unwrap();
        let huge = row(20230110, 8, 1, (4, 4), 1, [Some(i64::MAX / 2 + 1), Some(0), None]);
        r.add(&huge);
        assert!(r.tables().is_ok());
        r.add(&huge);
        assert_eq!(
            r.tables().unwrap_err(),
            "rollup_day_hour_payment: a key beyond 32 bits or a sum beyond 64"
        );
    }

    #[test]
    fn a_key_beyond_32_bits_is_refused_not_truncated() {
        let mut r = Rollups::new(&TAXI_ROLLUPS, zones()).unwrap();
        r.add(&row(20230110, 8, 1, (4, 4), 1, [Some(100), Some(0), None]));
        assert!(r.tables().is_ok());
        r.add(&row(i64::from(i32::MAX) + 1, 8, 1, (4, 4), 1, [Some(100), Some(0), None]));
        assert_eq!(
            r.tables().unwrap_err(),
            "rollup_day_hour_payment: a key beyond 32 bits or a sum beyond 64"
        );
    }

    #[test]
    fn groups_sum_cents_exactly_and_a_sum_of_nulls_stays_null() {
        let mut r = Rollups::new(&TAXI_ROLLUPS, zones()).unwrap();
        let cbd = |mut row: Vec<Option<i64>>, fee: Option<i64>| {
            row[fact_column(FACT, "cbd_congestion_fee_cents").unwrap().0] = fee;
            row
        };
        r.add(&cbd(row(20230110, 8, 1, (4, 4), 1, [Some(1005), Some(900), None]), Some(75)));
        r.add(&cbd(row(20230110, 8, 1, (132, 4), 1, [Some(-5), Some(0), None]), None));
        r.add(&cbd(row(20230110, 9, 2, (4, 5), 2, [Some(100), Some(100), Some(-1)]), Some(0)));
        assert_eq!(r.trips(), 3);
        let tables = r.tables().unwrap();
        let (create, copy, rows) = &tables[0];
        assert_eq!(
            create,
            "CREATE TEMP TABLE rollup_day_hour_payment (pickup_date_id integer, pickup_hour smallint, \
             payment_type_id integer, pu_borough_id integer, trips bigint, revenue numeric, fare_sum numeric, \
             tip_sum numeric, duration_sec_sum bigint, distance_sum numeric, airport_trips bigint, cbd_trips bigint, \
             cbd_fee_sum numeric) ON COMMIT DROP"
        );
        assert_eq!(copy, "COPY rollup_day_hour_payment FROM STDIN");
        let mut lines: Vec<&str> = rows.lines().collect();
        lines.sort();
        assert_eq!(
            lines,
            [
                "20230110\t8\t1\t1\t1\t10.05\t9.00\t\\N\t600\t2.50\t0\t1\t0.75",
                "20230110\t8\t1\t2\t1\t-0.05\t0.00\t\\N\t600\t2.50\t1\t0\t\\N",
                "20230110\t9\t2\t1\t1\t1.00\t1.00\t-0.01\t600\t2.50\t1\t0\t0.00"
            ]
        );
        // 2.50 mi in the half-mile bin of 2.50, per borough.
        let mut distances: Vec<&str> = tables[2].2.lines().collect();
        distances.sort();
        assert_eq!(distances, ["2.50\t1\t2\t10.00", "2.50\t2\t1\t0.00"]);
    }

    #[test]
    fn a_null_key_is_its_own_group_apart_from_zero() {
        let mut r = Rollups::new(&TAXI_ROLLUPS, zones()).unwrap();
        let mut null_payment = row(20230110, 8, 0, (4, 4), 1, [Some(100), Some(100), None]);
        null_payment[fact_column(FACT, "payment_type_id").unwrap().0] = None;
        r.add(&null_payment);
        r.add(&row(20230110, 8, 0, (4, 4), 1, [Some(200), Some(200), None]));
        r.add(&null_payment);
        let mut lines: Vec<String> = r.tables().unwrap()[1].2.lines().map(str::to_owned).collect();
        lines.sort();
        assert_eq!(lines, ["4\t0\t1\t2.00\t2.00\t\\N", "4\t\\N\t2\t2.00\t2.00\t\\N"]);
    }

    #[test]
    fn every_rollup_is_a_group_by_over_the_new_partition() {
        let sql = sql(&TAXI_ROLLUPS);
        assert!(sql.contains(
            "CREATE TEMP TABLE IF NOT EXISTS rollup_distance ON COMMIT DROP AS\n\
             SELECT least(trip_distance_hundredths / 50 * 50, 3000) * 0.01 AS trip_distance, \
             coalesce((SELECT mart.zone_boroughs())[pu_zone_id + 1], (SELECT mart.pickup_borough(NULL))) \
             AS pu_borough_id,\n       \
             count(*) AS trips,\n       sum(fare_amount_cents) * 0.01 AS fare_sum\nFROM mart.fact_trip_build\n\
             GROUP BY least(trip_distance_hundredths / 50 * 50, 3000), \
             coalesce((SELECT mart.zone_boroughs())[pu_zone_id + 1], (SELECT mart.pickup_borough(NULL)));\n"
        ));
        assert!(sql.contains(
            "count(*) FILTER (WHERE pu_zone_id IN (1, 132, 138) OR do_zone_id IN (1, 132, 138)\n                              \
             OR rate_code_id IN (2, 3)) AS airport_trips"
        ));
    }
}
