//! The for-hire services' cleaning rules and fact (`mart.fact_for_hire_trip`), declared once:
//! other FHV (kind fhv) and high-volume FHV (kind fhvhv: Uber, Lyft, ...) months alike, the
//! rules that only HVFHV rows can fail marked [`Test::HighVolume`] (other-FHV files record
//! times, zones and bases only). insertion_for_hire.sql's generated regions and the stream
//! both come from here, as insertion.sql's and the taxis' come from [`super`].

use super::code_counts::CodeRollup;
use super::rollup::{DISTANCE_BIN, Measure, Rollup, RollupSet};
use super::{Col, Conv, FactSpec, Rule, Test};

/// What a passenger paid: these charges, each rounded to the cent, missing ones as 0
/// (`mart.passenger_total`, and on the warehouse `atl_core::schema::passenger_total_columns`:
/// a test checks that the three agree).
pub const PASSENGER_TOTAL: &[Col] = &[
    "base_passenger_fare",
    "tolls",
    "bcf",
    "sales_tax",
    "congestion_surcharge",
    "airport_fee",
    "cbd_congestion_fee",
    "tips",
];

/// Every money column: the passenger's charges and the driver's pay.
pub const MONEY: &[Col] = &[
    "base_passenger_fare",
    "tolls",
    "bcf",
    "sales_tax",
    "congestion_surcharge",
    "airport_fee",
    "cbd_congestion_fee",
    "tips",
    "driver_pay",
];

const ZONES: &[Col] = &["pulocationid", "dolocationid"];

/// The rules, in order: a row's reason is the first rule it fails; no failed rule, it is clean.
/// Not reasons to reject: a negative driver_pay (the TLC records pay adjustments), a request
/// after the pickup or more than a day before it (wait_sec NULL), an odd trip_time (NULL).
pub const RULES: &[Rule] = &[
    Rule {
        reason: "timestamp_missing",
        doc: "pickup or dropoff is null",
        test: Test::AnyNull(&["pickup_at", "dropoff_at"]),
    },
    Rule {
        reason: "pickup_outside_month",
        doc: "pickup not in [month, month + 1 month)",
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
        doc: "a zone that is not an integer in 1..265 (the zone table); for HVFHV also a missing zone \
              (other-FHV files often leave them blank: kept, zone NULL)",
        test: Test::Any(&[Test::NotWholeIn(ZONES, 1, 265), Test::HighVolume(&Test::AnyNull(ZONES))]),
    },
    Rule {
        reason: "distance_not_positive",
        doc: "HVFHV: trip_miles null or <= 0 once rounded to the hundredth, as the fact holds it (0.004 mi is 0.00)",
        test: Test::HighVolume(&Test::NullOrRoundsToAtMost("trip_miles", 0.0)),
    },
    Rule {
        reason: "distance_over_500mi",
        doc: "HVFHV: trip_miles > 500",
        test: Test::HighVolume(&Test::Above("trip_miles", 500.0)),
    },
    Rule {
        reason: "amount_missing",
        doc: "HVFHV: base_passenger_fare null",
        test: Test::HighVolume(&Test::AnyNull(&["base_passenger_fare"])),
    },
    Rule {
        reason: "amount_negative",
        doc: "HVFHV: the base fare or a passenger charge (tolls, bcf, sales tax, congestion, airport, CBD fee, \
              tips) below 0 (refunds, adjustments)",
        test: Test::HighVolume(&Test::AnyNegative(PASSENGER_TOTAL)),
    },
    Rule {
        reason: "amount_over_10000",
        doc: "any money column (driver_pay included) above $10,000 in absolute value (or NaN)",
        test: Test::AbsAbove(MONEY, 10000.0),
    },
];

/// The fact's columns, each with how it is made: the order of insertion_for_hire.sql's SELECT
/// and of the streamed binary rows.
pub const FACT: &[(&str, Conv)] = &[
    ("kind_id", Conv::Kind),
    ("service_id", Conv::Licence("hvfhs_license_num")),
    ("pickup_at", Conv::Same("pickup_at")),
    ("dropoff_at", Conv::Same("dropoff_at")),
    ("pickup_date_id", Conv::DateId("pickup_at")),
    ("pickup_hour", Conv::Hour("pickup_at")),
    ("pu_zone_id", Conv::Zone("pulocationid")),
    ("do_zone_id", Conv::Zone("dolocationid")),
    ("dispatching_base_num", Conv::Code("dispatching_base_num")),
    ("originating_base_num", Conv::Code("originating_base_num")),
    ("affiliated_base_num", Conv::Code("affiliated_base_number")),
    ("request_at", Conv::Same("request_datetime")),
    ("on_scene_at", Conv::Same("on_scene_datetime")),
    ("wait_sec", Conv::SecondsWithinDay("request_datetime", "pickup_at")),
    ("duration_sec", Conv::Seconds("pickup_at", "dropoff_at")),
    ("trip_time_sec", Conv::IntIn("trip_time", 0, i32::MAX)),
    ("trip_miles_hundredths", Conv::Cents("trip_miles")),
    ("base_passenger_fare_cents", Conv::Cents("base_passenger_fare")),
    ("tolls_cents", Conv::Cents("tolls")),
    ("bcf_cents", Conv::Cents("bcf")),
    ("sales_tax_cents", Conv::Cents("sales_tax")),
    ("congestion_surcharge_cents", Conv::Cents("congestion_surcharge")),
    ("airport_fee_cents", Conv::Cents("airport_fee")),
    ("cbd_congestion_fee_cents", Conv::Cents("cbd_congestion_fee")),
    ("tips_cents", Conv::Cents("tips")),
    ("driver_pay_cents", Conv::Cents("driver_pay")),
    ("passenger_total_cents", Conv::CentsSum(PASSENGER_TOTAL)),
    ("shared_request", Conv::FlagOr("sr_flag", "shared_request_flag")),
    ("shared_match", Conv::LooseFlag("shared_match_flag")),
    ("access_a_ride", Conv::LooseFlag("access_a_ride_flag")),
    ("wav_request", Conv::LooseFlag("wav_request_flag")),
    ("wav_match", Conv::LooseFlag("wav_match_flag")),
    ("source_month", Conv::Same("source_month")),
    ("source_row", Conv::Same("source_row")),
];

/// The for-hire fact, `mart.fact_for_hire_trip`.
pub const FOR_HIRE: FactSpec = FactSpec {
    fact: "mart.fact_for_hire_trip",
    staging: "mart.staging_for_hire",
    build: "mart.fact_for_hire_build",
    new_build_table: "mart.new_for_hire_build_table",
    rules: RULES,
    columns: FACT,
};

/// The for-hire month's roll-ups (insertion_for_hire.sql), summed by the stream like the
/// taxis' ([`super::rollup`]), the dispatching bases' included.
pub const FOR_HIRE_ROLLUPS: RollupSet = RollupSet {
    rollups: ROLLUPS,
    columns: FACT,
    build: "mart.fact_for_hire_build",
    airport_rate_code: false,
    codes: &[CodeRollup { table: "rollup_base", code: "dispatching_base_num", min: "service_id" }],
};

const ROLLUPS: &[Rollup] = &[
    Rollup {
        table: "rollup_day_hour",
        keys: &[
            ("service_id", "service_id"),
            ("pickup_date_id", "pickup_date_id"),
            ("pickup_hour", "pickup_hour"),
            ("pu_borough_id", "pu_zone_id"),
        ],
        measures: &[
            ("trips", Measure::Count),
            ("total_sum", Measure::Sum("passenger_total_cents")),
            ("fare_sum", Measure::Sum("base_passenger_fare_cents")),
            ("driver_pay_sum", Measure::Sum("driver_pay_cents")),
            ("tips_sum", Measure::Sum("tips_cents")),
            ("miles_sum", Measure::Sum("trip_miles_hundredths")),
            ("duration_sec_sum", Measure::Sum("duration_sec")),
            ("trip_time_sec_sum", Measure::Sum("trip_time_sec")),
            ("wait_trips", Measure::CountOf("wait_sec")),
            ("wait_sec_sum", Measure::Sum("wait_sec")),
            ("shared_request_trips", Measure::CountTrue("shared_request")),
            ("shared_match_trips", Measure::CountTrue("shared_match")),
            ("wav_request_trips", Measure::CountTrue("wav_request")),
            ("wav_match_trips", Measure::CountTrue("wav_match")),
            ("access_a_ride_trips", Measure::CountTrue("access_a_ride")),
            ("airport_trips", Measure::AirportTrips),
            ("cbd_trips", Measure::CountPositive("cbd_congestion_fee_cents")),
            ("cbd_fee_sum", Measure::Sum("cbd_congestion_fee_cents")),
        ],
        only_with: None,
        bins: &[],
        boroughs: &["pu_borough_id"],
    },
    Rollup {
        table: "rollup_zone",
        keys: &[("service_id", "service_id"), ("pu_zone_id", "pu_zone_id")],
        measures: &[("trips", Measure::Count), ("total_sum", Measure::Sum("passenger_total_cents"))],
        only_with: Some("pu_zone_id"),
        bins: &[],
        boroughs: &[],
    },
    Rollup {
        table: "rollup_miles",
        keys: &[
            ("service_id", "service_id"),
            ("trip_miles", "trip_miles_hundredths"),
            ("pu_borough_id", "pu_zone_id"),
        ],
        measures: &[("trips", Measure::Count), ("fare_sum", Measure::Sum("base_passenger_fare_cents"))],
        only_with: Some("trip_miles_hundredths"),
        bins: &[("trip_miles", DISTANCE_BIN.1, DISTANCE_BIN.2)],
        boroughs: &["pu_borough_id"],
    },
    Rollup {
        table: "rollup_wait",
        keys: &[
            ("service_id", "service_id"),
            ("pickup_hour", "pickup_hour"),
            ("wait_bin", "wait_sec"),
            ("pu_borough_id", "pu_zone_id"),
        ],
        measures: &[("trips", Measure::Count)],
        only_with: Some("wait_sec"),
        // Half-minute bins, the last one every wait of an hour or more.
        bins: &[("wait_bin", 30, 3600)],
        boroughs: &["pu_borough_id"],
    },
];

#[cfg(test)]
mod tests {
    use atl_core::TripKind;

    use super::*;

    #[test]
    fn the_passenger_total_is_the_warehouse_s() {
        assert_eq!(PASSENGER_TOTAL, atl_core::schema::passenger_total_columns(TripKind::Fhvhv));
        assert!(PASSENGER_TOTAL.iter().all(|c| MONEY.contains(c)));
    }
}
