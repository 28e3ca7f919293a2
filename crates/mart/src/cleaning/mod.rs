//! The cleaning rules and the conversion of a clean row into the fact, declared once per fact:
//! the taxis' below ([`TAXI`]), the for-hire services' in [`for_hire`] ([`for_hire::FOR_HIRE`]).
//!
//! Two things are derived from the declarations:
//! - the SQL of `sql/mart/insertion.sql` (and `insertion_for_hire.sql`) between its
//!   `GENERATED` markers ([`sql`]): the CASE that gives each staged row its reject reason, and
//!   the SELECT that converts clean rows into the month's build table. A test
//!   (`insertion_sql_is_generated_from_the_rules`) regenerates those regions and fails when a
//!   file differs (it rewrites the file, so `cargo test` once more passes);
//! - [`row::Cleaner`], which applies the same rules and conversions to the warehouse's binary
//!   COPY rows as they stream to the mart: clean rows go straight into the build table in the
//!   fact's binary form, rejected ones into the staging table, where insertion.sql gives them
//!   their reason again. `crates/mart/tests/build.rs` builds months both ways and compares.
//!
//! The month's roll-ups (insertion.sql step 4) are declared the same way, in [`rollup`]: the
//! stream sums them from the fact rows it writes.
//!
//! Every comparison follows PostgreSQL's semantics: NULL fails a test (a CASE branch whose
//! condition is NULL is not taken) and float8 NaN equals itself and is above every number.

pub mod code_counts;
pub mod for_hire;
pub mod rollup;
pub mod row;
pub mod sql;

/// A staging column (`mart.staging_trip` or `mart.staging_for_hire`).
pub type Col = &'static str;

/// One fact's cleaning: the staging table its rows come from, the table that becomes the
/// month's partition, the rules and the fact's columns with how each is made.
#[derive(Debug, Clone, Copy)]
pub struct FactSpec {
    /// The partitioned fact.
    pub fact: &'static str,
    pub staging: &'static str,
    pub build: &'static str,
    /// `mart.<function>(kind or service, month)`: makes `build` empty and constrained.
    pub new_build_table: &'static str,
    pub rules: &'static [Rule],
    pub columns: &'static [(&'static str, Conv)],
}

/// The taxis' fact, `mart.fact_trip`.
pub const TAXI: FactSpec = FactSpec {
    fact: "mart.fact_trip",
    staging: "mart.staging_trip",
    build: "mart.fact_trip_build",
    new_build_table: "mart.new_build_table",
    rules: RULES,
    columns: FACT,
};

/// One cleaning rule: the reason recorded for a row that fails it, what it means, and its test.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub reason: &'static str,
    pub doc: &'static str,
    pub test: Test,
}

/// A test a row fails (true = rejected), over staging columns.
#[derive(Debug, Clone, Copy)]
pub enum Test {
    /// Any of the columns is NULL.
    AnyNull(&'static [Col]),
    /// The timestamp is outside [month, month + 1 month).
    OutsideMonth(Col),
    /// The first timestamp is not after the second.
    NotAfter(Col, Col),
    /// The first timestamp is more than the hours after the second.
    HoursAfter(Col, Col, i64),
    /// Any integer column is NULL or outside lo..=hi.
    NullOrOutside(&'static [Col], i64, i64),
    /// The number is NULL or, rounded to the cent by `mart.round_cents` (the precision the
    /// fact stores it at), at most the bound.
    NullOrRoundsToAtMost(Col, f64),
    /// The number is above the bound (NaN is).
    Above(Col, f64),
    /// Any number is below zero.
    AnyNegative(&'static [Col]),
    /// The largest absolute value of the numbers (NULLs ignored) is above the bound.
    AbsAbove(&'static [Col], f64),
    /// Any number is not NULL and either outside lo..=hi (NaN is) or not a whole number.
    NotWholeIn(&'static [Col], i64, i64),
    /// Any of the tests.
    Any(&'static [Test]),
    /// The test, for a high-volume (fhvhv) month only; other months pass it.
    HighVolume(&'static Test),
}

/// The money columns of the taxi staging table.
pub const MONEY: &[Col] = &[
    "fare_amount",
    "extra",
    "mta_tax",
    "tip_amount",
    "tolls_amount",
    "improvement_surcharge",
    "total_amount",
    "congestion_surcharge",
    "airport_fee",
    "cbd_congestion_fee",
    "ehail_fee",
];

/// The rules, in order: a row's reason is the first rule it fails; no failed rule, it is clean.
pub const RULES: &[Rule] = &[
    Rule {
        reason: "timestamp_missing",
        doc: "pickup or dropoff is null",
        test: Test::AnyNull(&["pickup_at", "dropoff_at"]),
    },
    Rule {
        reason: "pickup_outside_month",
        doc: "pickup not in [month, month + 1 month): the TLC files hold trips dated in other months, sometimes years off",
        test: Test::OutsideMonth("pickup_at"),
    },
    Rule {
        reason: "dropoff_not_after_pickup",
        doc: "dropoff <= pickup",
        test: Test::NotAfter("dropoff_at", "pickup_at"),
    },
    Rule {
        reason: "trip_over_24h",
        doc: "dropoff more than 24 hours after pickup",
        test: Test::HoursAfter("dropoff_at", "pickup_at", 24),
    },
    Rule {
        reason: "zone_unknown",
        doc: "pickup or dropoff zone null or not in 1..265 (the zone table)",
        test: Test::NullOrOutside(&["pulocationid", "dolocationid"], 1, 265),
    },
    Rule {
        reason: "distance_not_positive",
        doc: "trip_distance null or <= 0 mi once rounded to the hundredth, as the fact holds it (0.004 mi is 0.00)",
        test: Test::NullOrRoundsToAtMost("trip_distance", 0.0),
    },
    Rule {
        reason: "distance_over_500mi",
        doc: "trip_distance > 500 mi (the meter's 100,000+ mile glitches)",
        test: Test::Above("trip_distance", 500.0),
    },
    Rule {
        reason: "amount_missing",
        doc: "fare_amount or total_amount null",
        test: Test::AnyNull(&["fare_amount", "total_amount"]),
    },
    Rule {
        reason: "amount_negative",
        doc: "fare_amount < 0 or total_amount < 0 (refunds and disputes)",
        test: Test::AnyNegative(&["fare_amount", "total_amount"]),
    },
    Rule {
        reason: "amount_over_10000",
        doc: "any amount column above $10,000 in absolute value (or NaN)",
        test: Test::AbsAbove(MONEY, 10000.0),
    },
];

/// A code dimension whose members a staging column is checked against: unlisted codes
/// become the unknown member -1.
#[derive(Debug, Clone, Copy)]
pub struct Dimension {
    /// The dimension table and its key.
    pub table: &'static str,
    pub key: &'static str,
    /// The name of the array of members in insertion.sql's build_constants.
    pub array: &'static str,
    /// The staging column's type, which the members are compared as.
    pub element: Element,
}

/// How a staged code is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Element {
    Bigint,
    Float8,
}

pub const VENDOR: Dimension =
    Dimension { table: "mart.dim_vendor", key: "vendor_id", array: "vendor_ids", element: Element::Bigint };
pub const PAYMENT_TYPE: Dimension = Dimension {
    table: "mart.dim_payment_type",
    key: "payment_type_id",
    array: "payment_type_ids",
    element: Element::Float8,
};
pub const RATE_CODE: Dimension = Dimension {
    table: "mart.dim_rate_code",
    key: "rate_code_id",
    array: "rate_code_ids",
    element: Element::Float8,
};
pub const DIMENSIONS: &[Dimension] = &[VENDOR, PAYMENT_TYPE, RATE_CODE];

/// How a fact column is made from a clean staged row.
#[derive(Debug, Clone, Copy)]
pub enum Conv {
    /// The build's service (smallint).
    Service,
    /// The staged value as it is (timestamp, date or bigint).
    Same(Col),
    /// The date_id (yyyymmdd, int) of the timestamp's day.
    DateId(Col),
    /// The hour (0-23, smallint) of the timestamp.
    Hour(Col),
    /// A bigint that the rules keep small, as int.
    Int(Col),
    /// The code if the dimension lists it, else -1 (int).
    Member(Col, Dimension),
    /// The number if it is a whole number in lo..=hi, else NULL (smallint).
    WholeIn(Col, i16, i16),
    /// 'Y' true, 'N' false, anything else NULL.
    Flag(Col),
    /// Whole seconds from the first timestamp to the second, rounded half up (int).
    Seconds(Col, Col),
    /// mart.round_cents, in whole cents (hundredths of a mile for the distance), as int: the
    /// rules bound every amount to $10,000 and the distance to 500 mi. Integers, not
    /// numeric(10,2), because the fact's COPY is the longest step of a build and numeric is
    /// its costliest type (migration 0007 says by how much).
    Cents(Col),
    /// The sum of the columns' [`Conv::Cents`], a NULL counting 0 (int, never NULL).
    CentsSum(&'static [Col]),
    /// The build's kind (for-hire: the kind-level service, smallint).
    Kind,
    /// The service of the row's licence (for-hire: `mart.for_hire_key`, smallint): the kind's
    /// own member without one. A licence the mart does not list yet is not converted in the
    /// stream: the row is staged, and insertion_for_hire.sql adds the service and converts it.
    Licence(Col),
    /// A text code: `nullif(upper(btrim(x)), '')`.
    Code(Col),
    /// A float8 zone id that the rules keep whole (or NULL), as int.
    Zone(Col),
    /// A bigint as int when within lo..=hi, else NULL.
    IntIn(Col, i32, i32),
    /// Whole seconds from the first timestamp to the second when the first is at most a day
    /// before the second (not after it), else NULL (int).
    SecondsWithinDay(Col, Col),
    /// `upper(btrim(x))`: 'Y' true, 'N' false, anything else NULL.
    LooseFlag(Col),
    /// true if the float8 first column is 1, else [`Conv::LooseFlag`] of the second.
    FlagOr(Col, Col),
}

/// The fact's columns, each with how it is made: the order of insertion.sql's SELECT and of
/// the streamed binary rows.
pub const FACT: &[(&str, Conv)] = &[
    ("service_id", Conv::Service),
    ("pickup_at", Conv::Same("pickup_at")),
    ("dropoff_at", Conv::Same("dropoff_at")),
    ("pickup_date_id", Conv::DateId("pickup_at")),
    ("pickup_hour", Conv::Hour("pickup_at")),
    ("pu_zone_id", Conv::Int("pulocationid")),
    ("do_zone_id", Conv::Int("dolocationid")),
    ("vendor_id", Conv::Member("vendorid", VENDOR)),
    ("payment_type_id", Conv::Member("payment_type", PAYMENT_TYPE)),
    ("rate_code_id", Conv::Member("ratecodeid", RATE_CODE)),
    ("passenger_count", Conv::WholeIn("passenger_count", 0, 9)),
    ("store_and_fwd", Conv::Flag("store_and_fwd_flag")),
    ("trip_type", Conv::WholeIn("trip_type", 1, 2)),
    ("duration_sec", Conv::Seconds("pickup_at", "dropoff_at")),
    ("trip_distance_hundredths", Conv::Cents("trip_distance")),
    ("fare_amount_cents", Conv::Cents("fare_amount")),
    ("extra_cents", Conv::Cents("extra")),
    ("mta_tax_cents", Conv::Cents("mta_tax")),
    ("tip_amount_cents", Conv::Cents("tip_amount")),
    ("tolls_amount_cents", Conv::Cents("tolls_amount")),
    ("improvement_surcharge_cents", Conv::Cents("improvement_surcharge")),
    ("congestion_surcharge_cents", Conv::Cents("congestion_surcharge")),
    ("airport_fee_cents", Conv::Cents("airport_fee")),
    ("cbd_congestion_fee_cents", Conv::Cents("cbd_congestion_fee")),
    ("ehail_fee_cents", Conv::Cents("ehail_fee")),
    ("total_amount_cents", Conv::Cents("total_amount")),
    ("source_month", Conv::Same("source_month")),
    ("source_row", Conv::Same("source_row")),
];

impl Conv {
    /// The fact column's type, as `format_type` spells it.
    pub fn sql_type(self, staged: &str) -> String {
        match self {
            Conv::Service | Conv::Hour(_) | Conv::WholeIn(..) => "smallint".into(),
            Conv::Same(_) => staged.into(),
            Conv::DateId(_) | Conv::Int(_) | Conv::Member(..) | Conv::Seconds(..) => "integer".into(),
            Conv::Flag(_) | Conv::LooseFlag(_) | Conv::FlagOr(..) => "boolean".into(),
            Conv::Cents(_)
            | Conv::CentsSum(_)
            | Conv::Zone(_)
            | Conv::IntIn(..)
            | Conv::SecondsWithinDay(..) => "integer".into(),
            Conv::Kind | Conv::Licence(_) => "smallint".into(),
            Conv::Code(_) => "text".into(),
        }
    }

    /// The staging columns it reads.
    pub fn sources(self) -> Vec<Col> {
        match self {
            Conv::Service | Conv::Kind => vec![],
            Conv::Same(c)
            | Conv::DateId(c)
            | Conv::Hour(c)
            | Conv::Int(c)
            | Conv::Member(c, _)
            | Conv::WholeIn(c, ..)
            | Conv::Flag(c)
            | Conv::Cents(c)
            | Conv::Licence(c)
            | Conv::Code(c)
            | Conv::Zone(c)
            | Conv::IntIn(c, ..)
            | Conv::LooseFlag(c) => vec![c],
            Conv::Seconds(a, b) | Conv::SecondsWithinDay(a, b) | Conv::FlagOr(a, b) => vec![a, b],
            Conv::CentsSum(cs) => cs.to_vec(),
        }
    }
}

impl Test {
    /// The staging columns it reads.
    pub fn sources(self) -> Vec<Col> {
        match self {
            Test::AnyNull(cs)
            | Test::NullOrOutside(cs, ..)
            | Test::AnyNegative(cs)
            | Test::AbsAbove(cs, _)
            | Test::NotWholeIn(cs, ..) => cs.to_vec(),
            Test::OutsideMonth(c) | Test::NullOrRoundsToAtMost(c, _) | Test::Above(c, _) => vec![c],
            Test::NotAfter(a, b) | Test::HoursAfter(a, b, _) => vec![a, b],
            Test::Any(tests) => tests.iter().flat_map(|t| t.sources()).collect(),
            Test::HighVolume(t) => t.sources(),
        }
    }

    /// How many staging columns it reads, `sources().len()` without making the list: the
    /// stream asks it of each test of a [`Test::Any`] for every row (two allocations a row of
    /// a for-hire month, before).
    pub fn source_count(self) -> usize {
        match self {
            Test::AnyNull(cs)
            | Test::NullOrOutside(cs, ..)
            | Test::AnyNegative(cs)
            | Test::AbsAbove(cs, _)
            | Test::NotWholeIn(cs, ..) => cs.len(),
            Test::OutsideMonth(_) | Test::NullOrRoundsToAtMost(..) | Test::Above(..) => 1,
            Test::NotAfter(..) | Test::HoursAfter(..) => 2,
            Test::Any(tests) => tests.iter().map(|t| t.source_count()).sum(),
            Test::HighVolume(t) => t.source_count(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_s_source_count_is_that_of_its_sources() {
        for rule in RULES.iter().chain(for_hire::RULES) {
            assert_eq!(rule.test.source_count(), rule.test.sources().len(), "{}", rule.reason);
        }
        let any = Test::Any(&[Test::NotAfter("a", "b"), Test::HighVolume(&Test::AnyNull(&["c", "d", "e"]))]);
        assert_eq!(any.source_count(), 5);
    }
}
