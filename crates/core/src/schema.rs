// Over 400 lines: each kind's canonical column list, as the TLC publishes it, is a third of it,
// and the mapping of any era's file sits beside the lists it reads; a fifth is tests.
//! The TLC trip schemas: one canonical Arrow schema per kind, and the mapping of any
//! published file's physical schema onto it.
//!
//! The TLC has rewritten its files several times: column names changed case
//! (`airport_fee` / `Airport_fee`), integer codes were written as doubles in some years and
//! int64 or int32 in others, timestamps are µs or ns, and columns appeared over time
//! (`congestion_surcharge` 2019, `airport_fee` 2022, `cbd_congestion_fee` 2025). The
//! canonical schema is the union of every era's columns, named in lower case, each with the
//! narrowest type that holds every era's values without loss.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, new_null_array};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::error::SchemaError;
use crate::kind::TripKind;

/// Timestamps are stored as µs: PostgreSQL's resolution, and TLC times are whole seconds.
pub const TIMESTAMP: DataType = DataType::Timestamp(TimeUnit::Microsecond, None);

/// A canonical column: its lower-case name, type, and whether a file must have it.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub kind: ColumnType,
    /// Columns without which a file is not a trip file of this kind.
    pub required: bool,
}

/// The canonical types. Codes that some era wrote as doubles (passenger_count, RatecodeID,
/// payment_type, trip_type) stay `Float64`: an int64 code fits a double exactly, while a
/// double would not always fit an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Int64,
    /// A code or a zone ID (VendorID, PULocationID, DOLocationID): `integer`. Eras wrote them
    /// as int32 or int64; an int64 file is narrowed by a checked cast, so a value beyond
    /// ±2^31 refuses the file instead of being cut (the TLC's IDs are below 300). Half a
    /// bigint's bytes in every row the server writes and WAL-logs (migration 0005 says what
    /// that saved).
    Int32,
    Float64,
    /// An amount in dollars (a Float64): fares, fees, tips, totals. Its own type so that the
    /// list of money columns (checked for negative values, summed in audits) is this one.
    Money,
    Timestamp,
    Text,
    /// A Y/N flag, as text; also read from an integer column, which early for-hire files
    /// wrote all-null (its digits are text without loss).
    Flag,
}

impl ColumnType {
    pub fn data_type(self) -> DataType {
        match self {
            ColumnType::Int64 => DataType::Int64,
            ColumnType::Int32 => DataType::Int32,
            ColumnType::Float64 | ColumnType::Money => DataType::Float64,
            ColumnType::Timestamp => TIMESTAMP,
            ColumnType::Text | ColumnType::Flag => DataType::Utf8,
        }
    }

    /// The PostgreSQL type that holds this type's values without loss (the raw tables' type).
    pub fn sql_type(self) -> &'static str {
        match self {
            ColumnType::Int64 => "bigint",
            ColumnType::Int32 => "integer",
            ColumnType::Float64 | ColumnType::Money => "double precision",
            // PostgreSQL's own spelling (format_type), so catalogs compare equal.
            ColumnType::Timestamp => "timestamp without time zone",
            ColumnType::Text | ColumnType::Flag => "text",
        }
    }

    /// Whether every value of `found` converts to this type without loss.
    fn accepts(self, found: &DataType) -> bool {
        use DataType as D;
        match (self, found) {
            (_, D::Null) => true,
            (ColumnType::Int64, D::Int8 | D::Int16 | D::Int32 | D::Int64)
            | (ColumnType::Int64, D::UInt8 | D::UInt16 | D::UInt32) => true,
            // Wider integers too: the cast checks each value (see ColumnType::Int32).
            (ColumnType::Int32, D::Int8 | D::Int16 | D::Int32 | D::Int64)
            | (ColumnType::Int32, D::UInt8 | D::UInt16 | D::UInt32) => true,
            (ColumnType::Float64 | ColumnType::Money, D::Float16 | D::Float32 | D::Float64) => true,
            // Codes and counts: far below 2^53, where int64 → double is exact.
            (ColumnType::Float64, D::Int8 | D::Int16 | D::Int32 | D::Int64)
            | (ColumnType::Float64, D::UInt8 | D::UInt16 | D::UInt32) => true,
            (ColumnType::Timestamp, D::Timestamp(_, None)) => true,
            (ColumnType::Text | ColumnType::Flag, D::Utf8 | D::LargeUtf8 | D::Utf8View) => true,
            (ColumnType::Flag, D::Int8 | D::Int16 | D::Int32 | D::Int64) => true,
            (ColumnType::Text | ColumnType::Flag, D::Dictionary(_, v)) => {
                matches!(v.as_ref(), D::Utf8 | D::LargeUtf8 | D::Utf8View)
            }
            _ => false,
        }
    }
}

/// A canonical column, for declarations.
pub const fn col(name: &'static str, kind: ColumnType, required: bool) -> Column {
    Column { name, kind, required }
}

use ColumnType::{Flag as FL, Float64 as F, Int32 as ID, Int64 as I, Money as M, Text as T, Timestamp as TS};

const YELLOW: &[Column] = &[
    col("vendorid", ID, true),
    col("tpep_pickup_datetime", TS, true),
    col("tpep_dropoff_datetime", TS, true),
    col("passenger_count", F, false),
    col("trip_distance", F, true),
    col("ratecodeid", F, false),
    col("store_and_fwd_flag", T, false),
    col("pulocationid", ID, true),
    col("dolocationid", ID, true),
    col("payment_type", F, false),
    col("fare_amount", M, true),
    col("extra", M, false),
    col("mta_tax", M, false),
    col("tip_amount", M, false),
    col("tolls_amount", M, false),
    col("improvement_surcharge", M, false),
    col("total_amount", M, true),
    col("congestion_surcharge", M, false),
    col("airport_fee", M, false),
    col("cbd_congestion_fee", M, false),
];

const GREEN: &[Column] = &[
    col("vendorid", ID, true),
    col("lpep_pickup_datetime", TS, true),
    col("lpep_dropoff_datetime", TS, true),
    col("store_and_fwd_flag", T, false),
    col("ratecodeid", F, false),
    col("pulocationid", ID, true),
    col("dolocationid", ID, true),
    col("passenger_count", F, false),
    col("trip_distance", F, true),
    col("fare_amount", M, true),
    col("extra", M, false),
    col("mta_tax", M, false),
    col("tip_amount", M, false),
    col("tolls_amount", M, false),
    col("ehail_fee", M, false),
    col("improvement_surcharge", M, false),
    col("total_amount", M, true),
    col("payment_type", F, false),
    col("trip_type", F, false),
    col("congestion_surcharge", M, false),
    col("cbd_congestion_fee", M, false),
];

/// High-volume for-hire (Uber, Lyft, formerly Juno and Via), from 2019-02: the dictionary of
/// 2025-03-18. Location IDs were int64, then int32 (2023-02); `wav_match_flag` is an all-null
/// int32 column in the first files, hence the flags' own type.
const FHVHV: &[Column] = &[
    col("hvfhs_license_num", T, true),
    col("dispatching_base_num", T, true),
    col("originating_base_num", T, false),
    col("request_datetime", TS, false),
    col("on_scene_datetime", TS, false),
    col("pickup_datetime", TS, true),
    col("dropoff_datetime", TS, true),
    col("pulocationid", ID, true),
    col("dolocationid", ID, true),
    col("trip_miles", F, false),
    col("trip_time", I, false),
    col("base_passenger_fare", M, false),
    col("tolls", M, false),
    col("bcf", M, false),
    col("sales_tax", M, false),
    col("congestion_surcharge", M, false),
    col("airport_fee", M, false),
    col("tips", M, false),
    col("driver_pay", M, false),
    col("shared_request_flag", FL, false),
    col("shared_match_flag", FL, false),
    col("access_a_ride_flag", FL, false),
    col("wav_request_flag", FL, false),
    col("wav_match_flag", FL, false),
    col("cbd_congestion_fee", M, false),
];

/// Other for-hire vehicles (black car, livery, luxury limousine), from 2015-01. Location IDs
/// are doubles until 2023-01 and int64 from 2023-02; SR_Flag is an all-null int32 until
/// 2017-04, a double until 2023-01, an int64 from 2023-02 (a double holds every era's value);
/// names vary in case (`PUlocationID`, `dropOff_datetime`).
const FHV: &[Column] = &[
    col("dispatching_base_num", T, true),
    col("pickup_datetime", TS, true),
    col("dropoff_datetime", TS, false),
    col("pulocationid", F, false),
    col("dolocationid", F, false),
    col("sr_flag", F, false),
    col("affiliated_base_number", T, false),
];

/// The canonical columns of a kind, in table order; `None` for kinds not modelled yet.
pub fn canonical_columns(kind: TripKind) -> Option<&'static [Column]> {
    match kind {
        TripKind::Yellow => Some(YELLOW),
        TripKind::Green => Some(GREEN),
        TripKind::Fhvhv => Some(FHVHV),
        TripKind::Fhv => Some(FHV),
    }
}

/// Every money column of the modelled kinds, in declaration order, each once.
pub fn money_columns() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for kind in TripKind::ALL {
        for c in canonical_columns(kind).unwrap_or_default() {
            if c.kind == ColumnType::Money && !names.contains(&c.name) {
                names.push(c.name);
            }
        }
    }
    names
}

/// The canonical Arrow schema of a kind (every column nullable: real files have nulls
/// even in "required" columns).
pub fn canonical_schema(kind: TripKind) -> Option<SchemaRef> {
    canonical_columns(kind).map(arrow_schema)
}

/// The Arrow schema of a list of canonical columns.
pub fn arrow_schema(columns: &[Column]) -> SchemaRef {
    let fields: Vec<Field> = columns.iter().map(|c| Field::new(c.name, c.kind.data_type(), true)).collect();
    Arc::new(Schema::new(fields))
}

/// The column holding the pickup time, which decides the month a trip belongs to.
pub fn pickup_column(kind: TripKind) -> Option<&'static str> {
    match kind {
        TripKind::Yellow => Some("tpep_pickup_datetime"),
        TripKind::Green => Some("lpep_pickup_datetime"),
        TripKind::Fhv | TripKind::Fhvhv => Some("pickup_datetime"),
    }
}

/// The column holding the dropoff time.
pub fn dropoff_column(kind: TripKind) -> Option<&'static str> {
    match kind {
        TripKind::Yellow => Some("tpep_dropoff_datetime"),
        TripKind::Green => Some("lpep_dropoff_datetime"),
        TripKind::Fhv | TripKind::Fhvhv => Some("dropoff_datetime"),
    }
}

/// The money columns whose sum, each rounded to cents, is what the passenger paid for a trip
/// of `kind`: the taxis record it (`total_amount`); for HVFHV it is base fare + tolls + black
/// car fund + sales tax + congestion + airport + CBD fee + tips (the mart's
/// `mart.passenger_total()` states the same sum; the build's accounting compares the two);
/// other FHV files record no money.
pub fn passenger_total_columns(kind: TripKind) -> &'static [&'static str] {
    match kind {
        TripKind::Yellow | TripKind::Green => &["total_amount"],
        TripKind::Fhvhv => &[
            "base_passenger_fare",
            "tolls",
            "bcf",
            "sales_tax",
            "congestion_surcharge",
            "airport_fee",
            "cbd_congestion_fee",
            "tips",
        ],
        TripKind::Fhv => &[],
    }
}

/// The column naming the service a trip is accounted under within its kind, when a kind's
/// file holds several: the HVFHS licence (HV0003 Uber, HV0005 Lyft, ...).
pub fn licence_column(kind: TripKind) -> Option<&'static str> {
    match kind {
        TripKind::Fhvhv => Some("hvfhs_license_num"),
        TripKind::Yellow | TripKind::Green | TripKind::Fhv => None,
    }
}

/// How one file's columns become the canonical columns of its kind.
#[derive(Debug, Clone)]
pub struct SchemaMapping {
    source_name: String,
    canonical: SchemaRef,
    /// For each canonical column, the index of the file column that feeds it, if any.
    sources: Vec<Option<usize>>,
}

impl SchemaMapping {
    /// Maps `file` (the schema of the object `source_name`) onto the canonical schema of
    /// `kind`, or says which column cannot be mapped and why.
    pub fn new(kind: TripKind, file: &Schema, source_name: &str) -> Result<SchemaMapping, SchemaError> {
        let columns = canonical_columns(kind).ok_or_else(|| SchemaError::UnsupportedKind {
            source_name: source_name.to_owned(),
            kind: kind.to_string(),
        })?;
        SchemaMapping::onto(kind, columns, file, source_name)
    }

    /// Maps `file` onto `columns`: the canonical columns of `kind`, or a declaration that
    /// extends them (a column a newer release adds, see [`crate::raw::RawTable::with_columns`]).
    pub fn onto(
        kind: TripKind,
        columns: &[Column],
        file: &Schema,
        source_name: &str,
    ) -> Result<SchemaMapping, SchemaError> {
        let name = source_name.to_owned();
        let mut sources: Vec<Option<usize>> = vec![None; columns.len()];
        for (index, field) in file.fields().iter().enumerate() {
            // pandas writes a non-default index as an extra column; it is not trip data.
            if field.name().starts_with("__index_level_") {
                continue;
            }
            let lower = field.name().to_ascii_lowercase();
            let Some(at) = columns.iter().position(|c| c.name == lower) else {
                return Err(SchemaError::Unknown {
                    source_name: name,
                    column: field.name().clone(),
                    kind: kind.to_string(),
                });
            };
            let column = columns[at];
            if let Some(first) = sources[at] {
                return Err(SchemaError::Duplicate {
                    source_name: name,
                    column: column.name.to_owned(),
                    first: file.field(first).name().clone(),
                    second: field.name().clone(),
                });
            }
            if !column.kind.accepts(field.data_type()) {
                return Err(SchemaError::Type {
                    source_name: name,
                    column: field.name().clone(),
                    found: field.data_type().clone(),
                    expected: column.kind.data_type(),
                });
            }
            sources[at] = Some(index);
        }
        if let Some(missing) = columns.iter().zip(&sources).find(|(c, s)| c.required && s.is_none()) {
            return Err(SchemaError::Missing {
                source_name: name,
                column: missing.0.name.to_owned(),
                kind: kind.to_string(),
            });
        }
        let canonical = arrow_schema(columns);
        Ok(SchemaMapping { source_name: name, canonical, sources })
    }

    pub fn canonical(&self) -> &SchemaRef {
        &self.canonical
    }

    /// The canonical columns this file does not have (they are filled with nulls).
    pub fn missing_columns(&self) -> Vec<&str> {
        self.canonical
            .fields()
            .iter()
            .zip(&self.sources)
            .filter(|(_, s)| s.is_none())
            .map(|(f, _)| f.name().as_str())
            .collect()
    }

    /// Converts a batch read from the file into a batch of the canonical schema.
    pub fn apply(&self, batch: &RecordBatch) -> Result<RecordBatch, SchemaError> {
        let options = CastOptions { safe: false, ..Default::default() };
        let columns = self
            .canonical
            .fields()
            .iter()
            .zip(&self.sources)
            .map(|(field, source)| match source {
                None => Ok(new_null_array(field.data_type(), batch.num_rows())),
                Some(i) => cast_with_options(batch.column(*i), field.data_type(), &options)
                    .map_err(|e| self.convert_error(field.name(), e)),
            })
            .collect::<Result<Vec<ArrayRef>, SchemaError>>()?;
        RecordBatch::try_new(self.canonical.clone(), columns).map_err(|e| self.convert_error("*", e))
    }

    fn convert_error(&self, column: &str, e: arrow::error::ArrowError) -> SchemaError {
        SchemaError::Convert {
            source_name: self.source_name.clone(),
            message: format!("column `{column}`: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::AsArray;

    use super::*;

    fn schema(fields: &[(&str, DataType)]) -> Schema {
        Schema::new(fields.iter().map(|(n, t)| Field::new(*n, t.clone(), true)).collect::<Vec<_>>())
    }

    fn yellow_minimal(extra: &[(&str, DataType)]) -> Schema {
        yellow_minimal_with_ids(DataType::Int32, extra)
    }

    /// The required yellow columns, the IDs of type `id`, then `extra`.
    fn yellow_minimal_with_ids(id: DataType, extra: &[(&str, DataType)]) -> Schema {
        let mut fields = vec![
            ("VendorID", id.clone()),
            ("tpep_pickup_datetime", DataType::Timestamp(TimeUnit::Nanosecond, None)),
            ("tpep_dropoff_datetime", DataType::Timestamp(TimeUnit::Nanosecond, None)),
            ("trip_distance", DataType::Float64),
            ("PULocationID", id.clone()),
            ("DOLocationID", id),
            ("fare_amount", DataType::Float64),
            ("total_amount", DataType::Float64),
        ];
        fields.extend(extra.iter().cloned());
        schema(&fields)
    }

    #[test]
    fn renames_and_widens() {
        let file =
            yellow_minimal(&[("Airport_fee", DataType::Float64), ("passenger_count", DataType::Int64)]);
        let m = SchemaMapping::new(TripKind::Yellow, &file, "y.parquet").unwrap();
        assert!(m.missing_columns().contains(&"congestion_surcharge"));
        assert!(!m.missing_columns().contains(&"airport_fee"));
    }

    #[test]
    fn names_the_column_and_both_types() {
        let file = yellow_minimal(&[("payment_type", DataType::Utf8)]);
        let err = SchemaMapping::new(TripKind::Yellow, &file, "y.parquet").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("y.parquet") && text.contains("payment_type"), "{text}");
        assert!(text.contains("Utf8") && text.contains("Float64"), "{text}");
    }

    #[test]
    fn rejects_another_kind() {
        let fhv = schema(&[
            ("dispatching_base_num", DataType::Utf8),
            ("pickup_datetime", DataType::Timestamp(TimeUnit::Microsecond, None)),
        ]);
        let err = SchemaMapping::new(TripKind::Yellow, &fhv, "f.parquet").unwrap_err();
        assert!(matches!(err, SchemaError::Unknown { .. }), "{err}");
    }

    #[test]
    fn rejects_two_spellings_of_one_column() {
        let file = yellow_minimal(&[("Airport_fee", DataType::Float64), ("airport_fee", DataType::Float64)]);
        let err = SchemaMapping::new(TripKind::Yellow, &file, "y.parquet").unwrap_err();
        assert!(matches!(err, SchemaError::Duplicate { .. }), "{err}");
    }

    /// A batch of `yellow_minimal` with int64 IDs, one row per location ID given.
    fn int64_ids(locations: &[i64]) -> RecordBatch {
        use arrow::array::{Float64Array, Int64Array, TimestampNanosecondArray};
        let file = yellow_minimal_with_ids(DataType::Int64, &[]);
        let n = locations.len();
        let ids = || Arc::new(Int64Array::from(locations.to_vec())) as ArrayRef;
        let times = || Arc::new(TimestampNanosecondArray::from(vec![0i64; n])) as ArrayRef;
        let money = || Arc::new(Float64Array::from(vec![1.0; n])) as ArrayRef;
        let columns = vec![ids(), times(), times(), money(), ids(), ids(), money(), money()];
        RecordBatch::try_new(Arc::new(file), columns).unwrap()
    }

    #[test]
    fn int64_ids_are_narrowed_to_integer_when_every_value_fits() {
        let batch = int64_ids(&[1, 265, i32::MAX as i64, i32::MIN as i64]);
        let m = SchemaMapping::new(TripKind::Yellow, batch.schema().as_ref(), "y.parquet").unwrap();
        let out = m.apply(&batch).unwrap();
        let pu = out.column_by_name("pulocationid").unwrap();
        assert_eq!(pu.data_type(), &DataType::Int32);
        let values: Vec<i32> = pu.as_primitive::<arrow::datatypes::Int32Type>().values().to_vec();
        assert_eq!(values, vec![1, 265, i32::MAX, i32::MIN]);
    }

    #[test]
    fn an_id_beyond_integer_refuses_the_file_naming_it_and_the_column() {
        let batch = int64_ids(&[1, 1 << 40]);
        let m = SchemaMapping::new(TripKind::Yellow, batch.schema().as_ref(), "y.parquet").unwrap();
        let text = m.apply(&batch).unwrap_err().to_string();
        assert!(text.contains("y.parquet") && text.contains("vendorid"), "{text}");
        assert!(text.contains("1099511627776"), "{text}");
    }
}
