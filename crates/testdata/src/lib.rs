// Over 400 lines: every era's physical schema of each taxi kind and the generator of each
// column's values, which a test of any era reads together.
//! A deterministic generator of TLC-shaped Parquet files, so tests and benchmarks never
//! depend on downloaded data.
//!
//! A file is described by a [`TripFileSpec`]: kind, month, the physical schema of an
//! [`Era`], a row count and a seed. Rows are realistic (zones 1-265 weighted towards
//! Manhattan, fares that follow distance and duration, rush hours) and carry the defects of
//! real files at realistic rates: a block of rows with nulls in the same columns, negative
//! amounts, zero and absurd distances, trips dated outside their month, dropoffs before
//! pickups, codes the dictionaries do not list. Files are written one row group at a time,
//! so memory is bounded by the row-group size, not the file size.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float64Array, Int64Array, NullArray, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

mod for_hire;
pub mod real;
pub mod reference;

use atl_core::TripKind;
use atl_core::YearMonth;

/// The physical schemas the TLC used over the years (named by the first year of each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Era {
    /// int64 ids, double passenger_count/RatecodeID, no surcharge columns.
    Y2018,
    /// adds `congestion_surcharge`.
    Y2019,
    /// adds lower-case `airport_fee` (yellow); green's `ehail_fee` is of Arrow type null.
    Y2022,
    /// int32 ids, int64 codes, `Airport_fee` with a capital A; green's flag is large_string.
    Y2024,
    /// adds `cbd_congestion_fee`; timestamps in ns (as pandas rewrites them).
    Y2025,
}

impl Era {
    pub const ALL: [Era; 5] = [Era::Y2018, Era::Y2019, Era::Y2022, Era::Y2024, Era::Y2025];

    /// The era whose physical schema the TLC used for `month`.
    pub fn of(month: YearMonth) -> Era {
        match month.year() {
            ..=2018 => Era::Y2018,
            2019..=2021 => Era::Y2019,
            2022..=2023 => Era::Y2022,
            2024 => Era::Y2024,
            _ => Era::Y2025,
        }
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct TripFileSpec {
    pub kind: TripKind,
    pub month: YearMonth,
    pub era: Era,
    pub rows: usize,
    pub row_group_rows: usize,
    pub seed: u64,
}

impl TripFileSpec {
    /// A file of `rows` rows for `kind` and `month`, with that month's era and 128 Ki-row groups.
    pub fn new(kind: TripKind, month: YearMonth, rows: usize) -> TripFileSpec {
        let seed = (month.year() as u64) * 100 + month.month() as u64 + kind as u64 * 1_000_000;
        TripFileSpec { kind, month, era: Era::of(month), rows, row_group_rows: 131_072, seed }
    }

    pub fn era(mut self, era: Era) -> TripFileSpec {
        self.era = era;
        self
    }

    pub fn seed(mut self, seed: u64) -> TripFileSpec {
        self.seed = seed;
        self
    }

    pub fn row_group_rows(mut self, rows: usize) -> TripFileSpec {
        self.row_group_rows = rows.max(1);
        self
    }

    /// The physical Arrow schema a file of this spec has.
    pub fn physical_schema(&self) -> SchemaRef {
        let fields: Vec<Field> = if self.kind.is_for_hire() {
            let columns = for_hire::physical_columns(self.kind, self.month).into_iter();
            columns.map(|(name, t)| Field::new(name, t, true)).collect()
        } else {
            let columns = physical_columns(self.kind, self.era).into_iter();
            columns.map(|(name, _, t)| Field::new(name, t, true)).collect()
        };
        Arc::new(Schema::new(fields))
    }
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeneratedFile {
    pub rows: usize,
    pub row_groups: usize,
}

/// Errors while writing a generated file.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("writing generated Parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("building generated columns: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("creating {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// Writes the file described by `spec` to `out`, one row group at a time.
pub fn write_trip_file<W: Write + Send>(spec: &TripFileSpec, out: W) -> Result<GeneratedFile, GenerateError> {
    let schema = spec.physical_schema();
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(spec.row_group_rows))
        .build();
    let mut writer = ArrowWriter::try_new(out, schema.clone(), Some(props))?;
    let mut rng = SplitMix64(spec.seed);
    let mut written = 0;
    let mut row_groups = 0;
    while written < spec.rows {
        let n = spec.row_group_rows.min(spec.rows - written);
        let trips: Vec<Trip> = (0..n).map(|_| Trip::random(&mut rng, spec)).collect();
        let batch = if spec.kind.is_for_hire() {
            for_hire::batch(&mut rng, spec.kind, spec.month, &schema, &trips)?
        } else {
            batch(spec, &schema, &trips)?
        };
        writer.write(&batch)?;
        writer.flush()?;
        written += n;
        row_groups += 1;
    }
    writer.close()?;
    Ok(GeneratedFile { rows: written, row_groups })
}

/// [`write_trip_file`] into a file at `path`.
pub fn write_trip_file_to(spec: &TripFileSpec, path: &Path) -> Result<GeneratedFile, GenerateError> {
    let io = |source| GenerateError::Io { path: path.display().to_string(), source };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let file = File::create(path).map_err(io)?;
    write_trip_file(spec, std::io::BufWriter::with_capacity(1 << 20, file))
}

/// A zone table shaped like `taxi_zone_lookup.csv` (265 zones, CRLF line ends, 264 and 265
/// the unknown and outside-NYC members).
pub fn zone_table_csv() -> String {
    let mut csv = String::from("\"LocationID\",\"Borough\",\"Zone\",\"service_zone\"\r\n");
    for id in 1..=265u32 {
        let (borough, zone) = zone_names(id);
        let service = match id {
            1 => "EWR",
            264 | 265 => "N/A",
            132 | 138 => "Airports",
            _ if MANHATTAN.contains(&id) => "Yellow Zone",
            _ => "Boro Zone",
        };
        csv.push_str(&format!("{id},\"{borough}\",\"{zone}\",\"{service}\"\r\n"));
    }
    csv
}

/// The borough and zone name of a generated zone (the zone table's and the shapefile's).
pub fn zone_names(id: u32) -> (&'static str, String) {
    let borough = match id {
        1 => "EWR",
        264 => "Unknown",
        265 => "N/A",
        132 | 138 => "Queens",
        _ if MANHATTAN.contains(&id) => "Manhattan",
        _ => match id % 4 {
            0 => "Queens",
            1 => "Brooklyn",
            2 => "Bronx",
            _ => "Staten Island",
        },
    };
    let zone = match id {
        264 => "N/A".to_owned(),
        265 => "Outside of NYC".to_owned(),
        _ => format!("{borough} zone {id}"),
    };
    (borough, zone)
}

/// Manhattan's busiest zones, where most yellow trips start and end.
const MANHATTAN: [u32; 30] = [
    4, 13, 43, 45, 48, 50, 68, 79, 87, 90, 100, 107, 113, 114, 125, 140, 141, 142, 143, 148, 151, 161, 162,
    163, 164, 170, 186, 230, 236, 237,
];

/// Share of trips by hour of day, in per mille (a real weekday's shape).
const HOUR_WEIGHTS: [u64; 24] =
    [28, 19, 13, 9, 7, 9, 20, 35, 45, 47, 48, 51, 54, 55, 57, 60, 62, 67, 70, 64, 57, 55, 53, 44];

/// Which column of a trip a physical column holds.
#[derive(Debug, Clone, Copy)]
enum Col {
    Vendor,
    Pickup,
    Dropoff,
    Passengers,
    Distance,
    RateCode,
    StoreFwd,
    PuZone,
    DoZone,
    Payment,
    Fare,
    Extra,
    MtaTax,
    Tip,
    Tolls,
    Ehail,
    Improvement,
    Total,
    TripType,
    Congestion,
    AirportFee,
    CbdFee,
}

fn physical_columns(kind: TripKind, era: Era) -> Vec<(&'static str, Col, DataType)> {
    use DataType::{Float64 as F64, Int32, Int64, LargeUtf8, Null, Utf8};
    let old = matches!(era, Era::Y2018 | Era::Y2019 | Era::Y2022);
    let id = if old { Int64 } else { Int32 };
    let code = if old { F64 } else { Int64 };
    let ts = DataType::Timestamp(
        if era == Era::Y2025 { TimeUnit::Nanosecond } else { TimeUnit::Microsecond },
        None,
    );
    let since = |e: Era| era as u8 >= e as u8;
    let mut cols = Vec::new();
    match kind {
        TripKind::Yellow => {
            cols.extend([
                ("VendorID", Col::Vendor, id.clone()),
                ("tpep_pickup_datetime", Col::Pickup, ts.clone()),
                ("tpep_dropoff_datetime", Col::Dropoff, ts),
                ("passenger_count", Col::Passengers, code.clone()),
                ("trip_distance", Col::Distance, F64),
                ("RatecodeID", Col::RateCode, code),
                ("store_and_fwd_flag", Col::StoreFwd, Utf8),
                ("PULocationID", Col::PuZone, id.clone()),
                ("DOLocationID", Col::DoZone, id),
                ("payment_type", Col::Payment, Int64),
            ]);
            cols.extend(money(&["fare_amount", "extra", "mta_tax", "tip_amount", "tolls_amount"]));
            cols.extend([
                ("improvement_surcharge", Col::Improvement, F64),
                ("total_amount", Col::Total, F64),
            ]);
            if since(Era::Y2019) {
                cols.push(("congestion_surcharge", Col::Congestion, F64));
            }
            if since(Era::Y2022) {
                let name = if since(Era::Y2024) { "Airport_fee" } else { "airport_fee" };
                cols.push((name, Col::AirportFee, F64));
            }
        }
        TripKind::Green => {
            cols.extend([
                ("VendorID", Col::Vendor, id.clone()),
                ("lpep_pickup_datetime", Col::Pickup, ts.clone()),
                ("lpep_dropoff_datetime", Col::Dropoff, ts),
                ("store_and_fwd_flag", Col::StoreFwd, if since(Era::Y2024) { LargeUtf8 } else { Utf8 }),
                ("RatecodeID", Col::RateCode, code.clone()),
                ("PULocationID", Col::PuZone, id.clone()),
                ("DOLocationID", Col::DoZone, id),
                ("passenger_count", Col::Passengers, code.clone()),
                ("trip_distance", Col::Distance, F64),
            ]);
            cols.extend(money(&["fare_amount", "extra", "mta_tax", "tip_amount", "tolls_amount"]));
            cols.extend([
                ("ehail_fee", Col::Ehail, if era == Era::Y2022 { Null } else { F64 }),
                ("improvement_surcharge", Col::Improvement, F64),
                ("total_amount", Col::Total, F64),
                ("payment_type", Col::Payment, code.clone()),
                ("trip_type", Col::TripType, code),
            ]);
            if since(Era::Y2019) {
                cols.push(("congestion_surcharge", Col::Congestion, F64));
            }
        }
        TripKind::Fhv | TripKind::Fhvhv => unreachable!("for-hire columns come from for_hire.rs"),
    }
    if since(Era::Y2025) && matches!(kind, TripKind::Yellow | TripKind::Green) {
        cols.push(("cbd_congestion_fee", Col::CbdFee, DataType::Float64));
    }
    cols
}

fn money(names: &[&'static str]) -> Vec<(&'static str, Col, DataType)> {
    let col = |n: &str| match n {
        "fare_amount" => Col::Fare,
        "extra" => Col::Extra,
        "mta_tax" => Col::MtaTax,
        "tip_amount" => Col::Tip,
        _ => Col::Tolls,
    };
    names.iter().map(|n| (*n, col(n), DataType::Float64)).collect()
}

fn batch(spec: &TripFileSpec, schema: &SchemaRef, trips: &[Trip]) -> Result<RecordBatch, GenerateError> {
    let columns = physical_columns(spec.kind, spec.era)
        .into_iter()
        .map(|(_, col, data_type)| column(col, &data_type, trips))
        .collect::<Result<Vec<ArrayRef>, _>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

fn column(col: Col, data_type: &DataType, trips: &[Trip]) -> Result<ArrayRef, GenerateError> {
    let ints =
        |f: fn(&Trip) -> Option<i64>| Arc::new(trips.iter().map(f).collect::<Int64Array>()) as ArrayRef;
    let floats =
        |f: fn(&Trip) -> Option<f64>| Arc::new(trips.iter().map(f).collect::<Float64Array>()) as ArrayRef;
    let natural: ArrayRef = match col {
        Col::Vendor => ints(|t| t.vendor),
        Col::Pickup => Arc::new(trips.iter().map(|t| Some(t.pickup)).collect::<TimestampMicrosecondArray>()),
        Col::Dropoff => {
            Arc::new(trips.iter().map(|t| Some(t.dropoff)).collect::<TimestampMicrosecondArray>())
        }
        Col::Passengers => ints(|t| t.passengers),
        Col::Distance => floats(|t| Some(t.distance)),
        Col::RateCode => ints(|t| t.rate_code),
        Col::StoreFwd => Arc::new(trips.iter().map(|t| t.store_fwd).collect::<StringArray>()),
        Col::PuZone => ints(|t| Some(t.pu_zone)),
        Col::DoZone => ints(|t| Some(t.do_zone)),
        Col::Payment => ints(|t| t.payment),
        Col::Fare => floats(|t| Some(t.fare)),
        Col::Extra => floats(|t| Some(t.extra)),
        Col::MtaTax => floats(|t| Some(t.mta_tax)),
        Col::Tip => floats(|t| Some(t.tip)),
        Col::Tolls => floats(|t| Some(t.tolls)),
        Col::Ehail => Arc::new(NullArray::new(trips.len())),
        Col::Improvement => floats(|t| Some(t.improvement)),
        Col::Total => floats(|t| Some(t.total)),
        Col::TripType => ints(|t| t.trip_type),
        Col::Congestion => floats(|t| t.congestion),
        Col::AirportFee => floats(|t| t.airport_fee),
        Col::CbdFee => floats(|t| t.cbd_fee),
    };
    if natural.data_type() == data_type { Ok(natural) } else { Ok(cast(&natural, data_type)?) }
}

/// One generated trip, before it is laid out in a physical schema.
#[derive(Debug, Clone)]
struct Trip {
    vendor: Option<i64>,
    /// µs since the epoch
    pickup: i64,
    dropoff: i64,
    passengers: Option<i64>,
    distance: f64,
    rate_code: Option<i64>,
    store_fwd: Option<&'static str>,
    pu_zone: i64,
    do_zone: i64,
    payment: Option<i64>,
    fare: f64,
    extra: f64,
    mta_tax: f64,
    tip: f64,
    tolls: f64,
    improvement: f64,
    total: f64,
    trip_type: Option<i64>,
    congestion: Option<f64>,
    airport_fee: Option<f64>,
    cbd_fee: Option<f64>,
}

const MICROS_PER_SEC: i64 = 1_000_000;

impl Trip {
    fn random(rng: &mut SplitMix64, spec: &TripFileSpec) -> Trip {
        let era = spec.era as u8;
        let pickup = pickup_time(rng, spec.month);
        let minutes = 3.0 + rng.exp(12.0);
        let mut dropoff = pickup + (minutes * 60.0) as i64 * MICROS_PER_SEC;
        if rng.chance(0.003) {
            dropoff = pickup - rng.below(3_600) as i64 * MICROS_PER_SEC;
        }
        let mut distance = round2(0.3 + rng.exp(2.8));
        if rng.chance(0.01) {
            distance = 0.0;
        } else if rng.chance(0.0002) {
            distance = round2(100_000.0 + rng.unit() * 200_000.0);
        }
        let pu_zone = zone(rng);
        let do_zone = zone(rng);
        let airport = matches!(pu_zone, 132 | 138);
        let rate_code = if pu_zone == 132 && rng.chance(0.5) {
            2
        } else if rng.chance(0.005) {
            99
        } else {
            [1, 1, 1, 1, 1, 1, 1, 1, 3, 5][rng.below(10) as usize]
        };
        let card = rng.chance(0.72);
        let mut payment = if card { 1 } else { [2, 2, 2, 2, 3, 4][rng.below(6) as usize] };
        let fare = round2(3.0 + 2.5 * distance.min(200.0) + 0.5 * minutes);
        let extra = [0.0, 1.0, 2.5][rng.below(3) as usize];
        let tolls = if rng.chance(0.05) { 6.94 } else { 0.0 };
        let tip = if card { round2(fare * (0.12 + rng.unit() * 0.13)) } else { 0.0 };
        let congestion = (era >= Era::Y2019 as u8).then_some(2.5);
        let airport_fee = (era >= Era::Y2022 as u8 && spec.kind == TripKind::Yellow).then_some(if airport {
            1.75
        } else {
            0.0
        });
        let cbd_fee = (era >= Era::Y2025 as u8).then_some(if rng.chance(0.5) { 0.75 } else { 0.0 });
        let mut trip = Trip {
            vendor: Some(if rng.chance(0.005) { 6 + rng.below(2) as i64 } else { 1 + rng.below(2) as i64 }),
            pickup,
            dropoff,
            passengers: Some(if rng.chance(0.01) {
                0
            } else {
                [1, 1, 1, 1, 1, 2, 2, 3, 4, 5][rng.below(10) as usize]
            }),
            distance,
            rate_code: Some(rate_code),
            store_fwd: Some(if rng.chance(0.005) { "Y" } else { "N" }),
            pu_zone,
            do_zone,
            payment: None,
            fare,
            extra,
            mta_tax: 0.5,
            tip,
            tolls,
            improvement: 1.0,
            total: 0.0,
            trip_type: (spec.kind == TripKind::Green).then_some(if rng.chance(0.97) { 1 } else { 2 }),
            congestion,
            airport_fee,
            cbd_fee,
        };
        // Refunds and disputes: the TLC records them as trips with every amount negated.
        if rng.chance(0.01) {
            payment = if rng.chance(0.5) { 3 } else { 4 };
            trip.negate_amounts();
        }
        trip.payment = Some(payment);
        trip.total = trip.sum_of_amounts();
        // A block of rows whose codes are all missing together, as in the real files.
        if rng.chance(0.03) {
            trip.passengers = None;
            trip.rate_code = None;
            trip.store_fwd = None;
            trip.congestion = None;
            trip.airport_fee = None;
            trip.payment = if spec.kind == TripKind::Yellow { Some(0) } else { None };
            trip.trip_type = None;
        }
        trip
    }

    fn negate_amounts(&mut self) {
        for a in [
            &mut self.fare,
            &mut self.extra,
            &mut self.mta_tax,
            &mut self.tip,
            &mut self.tolls,
            &mut self.improvement,
        ] {
            *a = -*a;
        }
        for a in [&mut self.congestion, &mut self.airport_fee, &mut self.cbd_fee].into_iter().flatten() {
            *a = -*a;
        }
    }

    fn sum_of_amounts(&self) -> f64 {
        let optional = [self.congestion, self.airport_fee, self.cbd_fee].into_iter().flatten().sum::<f64>();
        round2(self.fare + self.extra + self.mta_tax + self.tip + self.tolls + self.improvement + optional)
    }
}

/// A pickup inside `month` with a realistic hour, or (0.5%) outside it: mostly the last
/// hours of the month before, sometimes years off, as in real files.
fn pickup_time(rng: &mut SplitMix64, month: YearMonth) -> i64 {
    let start = month.start().and_utc().timestamp();
    let secs = if rng.chance(0.005) {
        if rng.chance(0.8) {
            start - 1 - rng.below(6 * 3600) as i64
        } else {
            let years_off = [-20, -14, 1, 6][rng.below(4) as usize];
            start + years_off * 365 * 86_400 + rng.below(86_400) as i64
        }
    } else {
        let day = rng.below(month.days() as u64) as i64;
        let hour = weighted(rng, &HOUR_WEIGHTS) as i64;
        start + day * 86_400 + hour * 3600 + rng.below(3600) as i64
    };
    secs * MICROS_PER_SEC
}

fn zone(rng: &mut SplitMix64) -> i64 {
    if rng.chance(0.75) {
        MANHATTAN[rng.below(MANHATTAN.len() as u64) as usize] as i64
    } else if rng.chance(0.1) {
        [132, 138][rng.below(2) as usize]
    } else {
        1 + rng.below(265) as i64
    }
}

fn weighted(rng: &mut SplitMix64, weights: &[u64]) -> usize {
    let mut pick = rng.below(weights.iter().sum());
    for (i, w) in weights.iter().enumerate() {
        if pick < *w {
            return i;
        }
        pick -= w;
    }
    weights.len() - 1
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// SplitMix64: tiny, fast, and fixed forever, so a seed always gives the same file
/// (a `rand` upgrade could change every generated value).
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }
}
