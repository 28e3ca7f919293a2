//! For-hire files: high-volume FHV (`fhvhv`: Uber, Lyft, formerly Juno and Via) and other FHV
//! (`fhv`: black car, livery, luxury limousine), in the physical schema the TLC used for the
//! file's month (`Era` is a taxi notion: for-hire files changed on other dates, so the month
//! decides) and with the real files' oddities: Lyft rows without originating base and
//! on-scene time, `' '` flags, requests after the pickup, negative pay and fares, trip_time 0,
//! all-null int32 columns in early files.
//!
//! Eras (../shared/data/tlc/PROVENANCE.md): fhvhv 2019-02 `wav_match_flag` all-null int32,
//! location IDs int64, int32 from 2023-02, `cbd_congestion_fee` from 2025-01; fhv until
//! 2017-04 `SR_Flag` all-null int32 and location IDs double, `SR_Flag` double from 2017-05,
//! both int64 from 2023-02; names in the TLC's mixed case (`PUlocationID`, `dropOff_datetime`).

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use atl_core::{TripKind, YearMonth};

use crate::{GenerateError, SplitMix64, Trip, round2};

/// The licence of each high-volume service, the base it dispatches from and its share of trips.
const SERVICES: [(&str, &str, f64); 4] = [
    ("HV0003", "B03404", 0.70),
    ("HV0005", "B03406", 0.25),
    ("HV0004", "B02800", 0.03),
    ("HV0002", "B02907", 0.02),
];
const LYFT: &str = "HV0005";

fn month(y: i32, m: u32) -> YearMonth {
    YearMonth::new(y, m).expect("a valid month")
}

/// The physical columns of a for-hire file of `kind` for `at`: name and Arrow type.
pub(crate) fn physical_columns(kind: TripKind, at: YearMonth) -> Vec<(&'static str, DataType)> {
    use DataType::{Float64, Int32, Int64, LargeUtf8, Utf8};
    let ts = DataType::Timestamp(
        if at.year() >= 2022 { TimeUnit::Nanosecond } else { TimeUnit::Microsecond },
        None,
    );
    match kind {
        TripKind::Fhvhv => {
            let text = if at.year() >= 2023 { LargeUtf8 } else { Utf8 };
            let zone = if at >= month(2023, 2) { Int32 } else { Int64 };
            let mut cols = vec![
                ("hvfhs_license_num", text.clone()),
                ("dispatching_base_num", text.clone()),
                ("originating_base_num", text.clone()),
                ("request_datetime", ts.clone()),
                ("on_scene_datetime", ts.clone()),
                ("pickup_datetime", ts.clone()),
                ("dropoff_datetime", ts),
                ("PULocationID", zone.clone()),
                ("DOLocationID", zone),
                ("trip_miles", Float64),
                ("trip_time", Int64),
            ];
            for money in ["base_passenger_fare", "tolls", "bcf", "sales_tax", "congestion_surcharge"] {
                cols.push((money, Float64));
            }
            cols.extend([("airport_fee", Float64), ("tips", Float64), ("driver_pay", Float64)]);
            for flag in ["shared_request_flag", "shared_match_flag", "access_a_ride_flag", "wav_request_flag"]
            {
                cols.push((flag, text.clone()));
            }
            cols.push(("wav_match_flag", if at.year() == 2019 { Int32 } else { text }));
            if at >= month(2025, 1) {
                cols.push(("cbd_congestion_fee", Float64));
            }
            cols
        }
        _ => {
            let (zone, flag) = if at >= month(2023, 2) {
                (Int64, Int64)
            } else if at >= month(2017, 5) {
                (Float64, Float64)
            } else {
                (Float64, Int32)
            };
            vec![
                ("dispatching_base_num", Utf8),
                ("pickup_datetime", ts.clone()),
                ("dropOff_datetime", ts),
                ("PUlocationID", zone.clone()),
                ("DOlocationID", zone),
                ("SR_Flag", flag),
                ("Affiliated_base_number", Utf8),
            ]
        }
    }
}

/// One for-hire trip's columns besides what [`Trip`] holds.
struct Hire {
    licence: &'static str,
    base: String,
    originating: Option<String>,
    request: i64,
    on_scene: Option<i64>,
    trip_time: i64,
    fare: f64,
    tips: f64,
    driver_pay: f64,
    flags: [Option<&'static str>; 5],
    sr_flag: Option<f64>,
}

fn hire(rng: &mut SplitMix64, trip: &Trip, kind: TripKind, at: YearMonth) -> Hire {
    let minute = 60_000_000;
    let draw = rng.unit();
    let mut acc = 0.0;
    let mut service = SERVICES[0];
    for s in SERVICES {
        acc += s.2;
        if draw < acc {
            service = s;
            break;
        }
    }
    let licence = if rng.chance(0.0005) { "HV0099" } else { service.0 };
    let base =
        if kind == TripKind::Fhv { format!("B{:05}", 2000 + rng.below(40)) } else { service.1.to_owned() };
    let lyft = licence == LYFT;
    let request = if rng.chance(0.005) {
        trip.pickup + rng.below(300) as i64 * 1_000_000
    } else {
        trip.pickup - (1 + rng.below(15) as i64) * minute
    };
    let fare = if rng.chance(0.003) { -round2(5.0 + rng.unit() * 20.0) } else { round2(trip.fare * 1.2) };
    let flag = |rng: &mut SplitMix64, p: f64| Some(if rng.chance(p) { "Y" } else { "N" });
    // The 2022 files write access_a_ride_flag as a single space.
    let access = if at.year() == 2022 { Some(" ") } else { flag(rng, 0.01) };
    Hire {
        licence,
        originating: (!lyft).then(|| base.clone()),
        base,
        request,
        on_scene: (!lyft).then(|| trip.pickup - rng.below(180) as i64 * 1_000_000),
        trip_time: if rng.chance(0.002) { 0 } else { ((trip.dropoff - trip.pickup) / 1_000_000).max(0) },
        fare,
        tips: if rng.chance(0.2) { round2(fare.abs() * 0.15) } else { 0.0 },
        driver_pay: if rng.chance(0.002) { -round2(rng.unit() * 10.0) } else { round2(fare * 0.72) },
        flags: [flag(rng, 0.03), flag(rng, 0.01), access, flag(rng, 0.02), flag(rng, 0.03)],
        sr_flag: (at >= month(2017, 5) && rng.chance(0.02)).then_some(1.0),
    }
}

/// One row group of a for-hire file.
pub(crate) fn batch(
    rng: &mut SplitMix64,
    kind: TripKind,
    at: YearMonth,
    schema: &SchemaRef,
    trips: &[Trip],
) -> Result<RecordBatch, GenerateError> {
    let hires: Vec<Hire> = trips.iter().map(|t| hire(rng, t, kind, at)).collect();
    let mut columns = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let natural = natural_column(field.name(), trips, &hires, at);
        let column = if natural.data_type() == field.data_type() {
            natural
        } else {
            cast(&natural, field.data_type())?
        };
        columns.push(column);
    }
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

fn natural_column(name: &str, trips: &[Trip], hires: &[Hire], at: YearMonth) -> ArrayRef {
    let th = || trips.iter().zip(hires);
    let text = |f: &dyn Fn(&Trip, &Hire) -> Option<String>| -> ArrayRef {
        Arc::new(th().map(|(t, h)| f(t, h)).collect::<StringArray>())
    };
    let time = |f: &dyn Fn(&Trip, &Hire) -> Option<i64>| -> ArrayRef {
        Arc::new(th().map(|(t, h)| f(t, h)).collect::<TimestampMicrosecondArray>())
    };
    let int = |f: &dyn Fn(&Trip, &Hire) -> Option<i64>| -> ArrayRef {
        Arc::new(th().map(|(t, h)| f(t, h)).collect::<Int64Array>())
    };
    let float = |f: &dyn Fn(&Trip, &Hire) -> Option<f64>| -> ArrayRef {
        Arc::new(th().map(|(t, h)| f(t, h)).collect::<Float64Array>())
    };
    let flag = |i: usize| text(&|_, h| h.flags[i].map(str::to_owned));
    match name {
        "hvfhs_license_num" => text(&|_, h| Some(h.licence.to_owned())),
        "dispatching_base_num" => text(&|_, h| Some(h.base.clone())),
        "originating_base_num" => text(&|_, h| h.originating.clone()),
        "Affiliated_base_number" => text(&|t, h| (t.pu_zone % 20 != 0).then(|| h.base.clone())),
        "request_datetime" => time(&|_, h| Some(h.request)),
        "on_scene_datetime" => time(&|_, h| h.on_scene),
        "pickup_datetime" => time(&|t, _| Some(t.pickup)),
        "dropoff_datetime" | "dropOff_datetime" => time(&|t, _| Some(t.dropoff)),
        // Old fhv files leave a fifth of the zones empty.
        "PUlocationID" => float(&|t, _| (t.pu_zone % 5 != 0).then_some(t.pu_zone as f64)),
        "DOlocationID" => float(&|t, _| (t.do_zone % 5 != 0).then_some(t.do_zone as f64)),
        "PULocationID" => int(&|t, _| Some(t.pu_zone)),
        "DOLocationID" => int(&|t, _| Some(t.do_zone)),
        "SR_Flag" => float(&|_, h| h.sr_flag),
        "trip_miles" => float(&|t, _| Some(t.distance)),
        "trip_time" => int(&|_, h| Some(h.trip_time)),
        "base_passenger_fare" => float(&|_, h| Some(h.fare)),
        "tolls" => float(&|t, _| Some(t.tolls)),
        "bcf" => float(&|_, h| Some(round2(h.fare * 0.025))),
        "sales_tax" => float(&|_, h| Some(round2(h.fare * 0.08875))),
        "congestion_surcharge" => float(&|t, _| Some(t.congestion.unwrap_or(0.0))),
        "airport_fee" => float(&|t, _| Some(if matches!(t.pu_zone, 1 | 132 | 138) { 2.5 } else { 0.0 })),
        "tips" => float(&|_, h| Some(h.tips)),
        "driver_pay" => float(&|_, h| Some(h.driver_pay)),
        "shared_request_flag" => flag(0),
        "shared_match_flag" => flag(1),
        "access_a_ride_flag" => flag(2),
        "wav_request_flag" => flag(3),
        "wav_match_flag" if at.year() == 2019 => int(&|_, _| None),
        "wav_match_flag" => flag(4),
        "cbd_congestion_fee" => float(&|t, _| Some(t.cbd_fee.unwrap_or(0.0) * 2.0)),
        other => unreachable!("no generator for for-hire column {other}"),
    }
}
