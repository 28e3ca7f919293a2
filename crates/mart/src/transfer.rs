//! Moving one warehouse month into the mart's staging table: `COPY (SELECT ...) TO STDOUT
//! (FORMAT binary)` on the warehouse server, its chunks forwarded as they arrive into `COPY
//! mart.staging_trip` (taxis) or `mart.staging_for_hire` `FROM STDIN (FORMAT binary)` on the
//! mart server. No file in between, and
//! no decoding: the SELECT casts every column to the staging table's type, so the binary
//! rows are valid on both sides.

use atl_core::money::{LicenceTotal, PassengerTotals, SHORTCUT_BOUND, SHORTCUT_DISTANCE};
use atl_core::raw::{LOAD_LOG, LOAD_TOTALS, RawTable, month_literal, quote_ident};
use atl_core::schema::{dropoff_column, licence_column, passenger_total_columns, pickup_column};
use atl_core::{TripKind, YearMonth};
use bytes::BytesMut;
use futures::StreamExt;
use sqlx::{AssertSqlSafe, PgConnection};

use crate::error::MartError;

/// Bytes per COPY message to the mart: the warehouse sends one message per row.
const CHUNK_BYTES: usize = 1 << 20;

/// The staging table of a kind (`sql/mart/migrations`): one shape for both taxis, one for
/// both for-hire kinds.
pub fn staging_table(kind: TripKind) -> &'static str {
    match kind {
        TripKind::Yellow | TripKind::Green => "mart.staging_trip",
        TripKind::Fhv | TripKind::Fhvhv => "mart.staging_for_hire",
    }
}
/// Staging columns that take a kind's own pickup and dropoff columns (`tpep_*`, `lpep_*`).
pub const PICKUP_AT: &str = "pickup_at";
pub const DROPOFF_AT: &str = "dropoff_at";

/// A column of the staging table: its name and PostgreSQL type, as the mart server says.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StagingColumn {
    pub name: String,
    pub sql_type: String,
}

/// The staging table's columns, in order, from the mart's catalog: the table is the mart's
/// (its migrations declare it), so the transfer asks the mart rather than repeating the list.
pub async fn staging_columns(mart: &mut PgConnection, table: &str) -> Result<Vec<StagingColumn>, MartError> {
    sqlx::query_as(
        "SELECT attname::text AS name, format_type(atttypid, atttypmod) AS sql_type FROM pg_attribute \
         WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
    )
    .bind(table)
    .fetch_all(mart)
    .await
    .map_err(MartError::sql(format!("reading the columns of {table}")))
}

/// The warehouse column that feeds `staging` for `kind`: the kind's pickup/dropoff column,
/// the raw column of the same name, or none (the kind lacks it: a typed NULL).
pub fn warehouse_source(raw: &RawTable, staging: &str) -> Option<String> {
    let kind = raw.kind;
    let mapped = match staging {
        PICKUP_AT => pickup_column(kind),
        DROPOFF_AT => dropoff_column(kind),
        _ => None,
    };
    mapped.map(str::to_owned).or_else(|| raw.columns().into_iter().find(|c| *c == staging).map(str::to_owned))
}

/// The positions in `staging` of the columns `kind`'s raw table feeds; the others are NULL for
/// every row of the kind (green's ehail_fee in a yellow month). The stream reads only these:
/// with no constant to add, the warehouse sends its rows without a projection (its COPY of a
/// 3 M-row yellow month into /dev/null: 3.84-3.96 s with the two NULLs, 3.60-3.65 s without).
pub fn fed_columns(kind: TripKind, staging: &[StagingColumn]) -> Result<Vec<usize>, MartError> {
    let raw = RawTable::new(kind).ok_or(MartError::UnsupportedKind(kind))?;
    Ok((0..staging.len()).filter(|&i| warehouse_source(&raw, &staging[i].name).is_some()).collect())
}

fn is_raw_column_of_some_kind(column: &str) -> bool {
    TripKind::ALL.into_iter().filter_map(RawTable::new).any(|t| t.columns().contains(&column))
}

/// `SELECT <one expression per staging column> FROM raw.<kind>_tripdata WHERE source_month =
/// DATE '...'`: every column cast to the staging type, so the binary rows are valid on both
/// sides whatever lossless type the raw layer uses.
pub fn warehouse_select(
    kind: TripKind,
    month: YearMonth,
    staging: &[StagingColumn],
) -> Result<String, MartError> {
    let raw = RawTable::new(kind).ok_or(MartError::UnsupportedKind(kind))?;
    let columns = staging
        .iter()
        .map(|c| {
            let (name, ty) = (quote_ident(&c.name), &c.sql_type);
            match warehouse_source(&raw, &c.name) {
                Some(source) => Ok(format!("{}::{ty} AS {name}", quote_ident(&source))),
                // Another kind's column (green's ehail_fee for a yellow month): NULL here. A
                // column of no kind is a mistake of the mart's migrations, not a NULL.
                None if is_raw_column_of_some_kind(&c.name) => Ok(format!("NULL::{ty} AS {name}")),
                None => Err(MartError::StagingColumn { column: c.name.clone() }),
            }
        })
        .collect::<Result<Vec<String>, MartError>>()?;
    Ok(format!(
        "SELECT {} FROM {} WHERE source_month = {}",
        columns.join(", "),
        raw.parent(),
        month_literal(month)
    ))
}

/// A warehouse month's figures for one service: rows and passenger total.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ServiceTotal {
    /// The licence the rows carry (HVFHV), `None` for the kinds with one service or for
    /// rows without licence.
    pub licence: Option<String>,
    pub rows: i64,
    /// The passenger totals ([`passenger_total_columns`]), each rounded to cents, summed as
    /// numeric, as text.
    pub total: String,
}

/// The query of [`exact_totals`]: per licence, the rows and the passenger total, each
/// money column rounded to cents by the mart's rule ([`install_rounding`]) and summed as
/// numeric (`0` for a kind without money). A kind with one money column (the taxis' total)
/// groups by its value first and rounds each distinct value once: a month holds a few
/// thousand distinct totals, and rounding 3 M values one by one was 1.2 of 1.6 CPU-s of the
/// count (measured serially on a 3 M-row month: 1.18-1.23 s against 0.83-0.85 s). A kind with
/// several (HVFHV's eight charges) is counted by [`cents_totals_sql`], and by this query only
/// when the stream met a value beyond the rule's integer shortcut.
fn totals_sql(kind: TripKind, raw: &RawTable) -> String {
    let licence = licence_column(kind).map_or_else(|| "NULL::text".to_owned(), quote_ident);
    match passenger_total_columns(kind) {
        [column] => format!(
            "SELECT licence, sum(n)::bigint AS rows, coalesce(sum(pg_temp.round_cents(v) * n), 0)::text AS total \
             FROM (SELECT {licence} AS licence, {} AS v, count(*) AS n FROM {} WHERE source_month = $1 \
             GROUP BY 1, 2) AS g GROUP BY 1 ORDER BY 1",
            quote_ident(column),
            raw.parent()
        ),
        columns => {
            let total = if columns.is_empty() {
                "0::numeric".to_owned()
            } else {
                columns.iter().map(|c| by_the_rule(&quote_ident(c))).collect::<Vec<_>>().join(" + ")
            };
            format!(
                "SELECT {licence} AS licence, count(*) AS rows, ({total})::text AS total FROM {} \
                 WHERE source_month = $1 GROUP BY 1 ORDER BY 1",
                raw.parent()
            )
        }
    }
}

/// The sum of column `c`'s values each rounded by the mart's rule, per value: in whole cents
/// where the rule's integer shortcut holds ([`shortcut`]), by the rule itself elsewhere.
fn by_the_rule(c: &str) -> String {
    let s = shortcut(c);
    format!(
        "(CASE WHEN count({c}) = 0 THEN 0 ELSE coalesce(sum(round({c} * 100)::bigint) FILTER (WHERE {s}), 0) * 0.01 \
         + coalesce(sum(pg_temp.round_cents({c})) FILTER (WHERE NOT ({s})), 0) END)"
    )
}

/// For a kind with several money columns: per licence, the rows and the sum of every column
/// in whole cents, `round(c * 100)`: the rule's value wherever its integer shortcut holds
/// ([`shortcut`]). Whether it held for every value is not asked of the warehouse: the stream
/// reads every row of the same snapshot and checks each value
/// ([`crate::cleaning::row::Cleaner::count_passengers`]); a month with any value beyond
/// it is counted again by [`exact_totals`]. Checking it here too (the largest `abs(c)` and
/// the largest distance to a whole cent, two more aggregates over every value) was about half
/// of the count's CPU on the warehouse server (a 3 M-row generated month, 3 alternated rounds:
/// 3.05-3.68 against 1.36-2.65 CPU-s), and the count runs beside the stream on the same two
/// cores. A 20 M-row month's build, 2 alternated rounds (fsync off): the warehouse server's
/// CPU 39.3-44.4 against 35.8-35.9 CPU-s, the build 62.2-66.0 against 59.9-61.1 s; on 3 M-row
/// months the build's wall time moved within this machine's noise.
///
/// Each row's columns are folded into one value before aggregating (measured when the query
/// also took the two maxima: three aggregates a row against three a charge, a 3 M-row month,
/// 8 alternated rounds, medians 1.62 against 1.74 s). A row's cents are added as float8,
/// exact where the shortcut holds (each under 1e9 cents), and clamped to +-1e15 before the
/// cast to bigint, so that a NaN, an infinity or a huge value (beyond the shortcut: the month
/// is counted again) cannot fail the cast; the bigints are summed exactly.
///
/// Such a month's recount runs after the stream: rare (TLC charges are whole cents), logged.
fn cents_totals_sql(kind: TripKind, raw: &RawTable) -> Option<String> {
    if !counted_in_whole_cents(kind) {
        return None;
    }
    let columns = passenger_total_columns(kind);
    let licence = licence_column(kind).map_or_else(|| "NULL::text".to_owned(), quote_ident);
    let cents: Vec<String> =
        columns.iter().map(|c| format!("coalesce(round({} * 100), 0)", quote_ident(c))).collect();
    Some(format!(
        "SELECT {licence} AS licence, count(*) AS rows, \
         (sum(least(greatest({}, -1e15), 1e15)::bigint) * 0.01)::text AS total \
         FROM {} WHERE source_month = $1 GROUP BY 1 ORDER BY 1",
        cents.join(" + "),
        raw.parent()
    ))
}

/// `mart.round_cents`' integer shortcut (migration 0004) over `column`: where it holds, the
/// rule's value is `round(column * 100)` cents. [`install_rounding`] checks that the mart's
/// definition still states it.
fn shortcut(column: &str) -> String {
    format!(
        "abs({column}) < {SHORTCUT_BOUND:e} AND abs({column} * 100 - round({column} * 100)) < {SHORTCUT_DISTANCE}"
    )
}

/// Whether [`warehouse_totals`] counts `kind`'s money in whole cents ([`cents_totals_sql`]),
/// exact only where every value is within the rule's shortcut: then the stream checks them.
fn counted_in_whole_cents(kind: TripKind) -> bool {
    passenger_total_columns(kind).len() > 1
}

/// Gives the warehouse session `warehouse` the mart's rounding rule, `mart.round_cents`
/// (migration 0004), as the session's own `pg_temp.round_cents`, from the definition the mart
/// server holds: the warehouse then counts the month's money by the mart's rule, on its own
/// rows, with the rule's integer shortcut (a float8 -> numeric conversion per value goes
/// through text, which on a 20 M-row for-hire month of 8 money columns is most of the count).
/// Run before the session's read-only transaction.
pub async fn install_rounding(
    mart: &mut PgConnection,
    warehouse: &mut PgConnection,
) -> Result<(), MartError> {
    let definition: String =
        sqlx::query_scalar("SELECT pg_get_functiondef('mart.round_cents(double precision)'::regprocedure)")
            .fetch_one(mart)
            .await
            .map_err(MartError::sql("reading mart.round_cents from the mart"))?;
    let temp = definition.replacen("FUNCTION mart.round_cents(", "FUNCTION pg_temp.round_cents(", 1);
    let states_shortcut = definition.contains(&format!("CASE WHEN {}", shortcut("x")))
        && definition.contains("THEN round(x * 100)::bigint * 0.01");
    if temp == definition || !states_shortcut {
        return Err(MartError::Cleaning {
            detail: format!("unexpected definition of mart.round_cents: {definition}"),
        });
    }
    sqlx::raw_sql(AssertSqlSafe(temp))
        .execute(warehouse)
        .await
        .map_err(MartError::sql("giving the warehouse session the mart's rounding rule"))?;
    Ok(())
}

/// How a month's money was counted on the warehouse's side of the build's accounting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyCount {
    /// By the load, as it read the file (`raw.load_totals`): the rows the stream read added up
    /// to the same, so the warehouse holds what was loaded and was not counted again.
    AtLoad,
    /// By the warehouse server, in whole cents ([`cents_totals_sql`]), beside the stream.
    InWholeCents,
    /// By the warehouse server, each value by the rule ([`exact_totals`]).
    ValueByValue,
}

/// A warehouse month's figures ([`warehouse_totals`]).
#[derive(Debug, Clone)]
pub struct WarehouseTotals {
    pub services: Vec<ServiceTotal>,
    /// When the load the rows came from finished (raw.load_log, as text).
    pub loaded_at: Option<String>,
    /// How the money was counted. [`MoneyCount::AtLoad`] holds only if the stream of the same
    /// snapshot read the same figures ([`WarehouseTotals::at_load`]); [`MoneyCount::InWholeCents`]
    /// only if it met no value beyond the rule's shortcut: else [`exact_totals`] counts the
    /// month again.
    pub counted: MoneyCount,
    /// The load's own figures, for [`MoneyCount::AtLoad`].
    pub at_load: Option<Vec<LicenceTotal>>,
}

/// The warehouse month's rows and passenger totals per licence, and when the load the rows
/// came from finished, all read in the transfer's snapshot: the load's own count
/// (`raw.load_totals`) when it has one, else a count on the warehouse server. The session must
/// have had [`install_rounding`].
pub async fn warehouse_totals(
    warehouse: &mut PgConnection,
    kind: TripKind,
    month: YearMonth,
) -> Result<WarehouseTotals, MartError> {
    let raw = RawTable::new(kind).ok_or(MartError::UnsupportedKind(kind))?;
    let what = || format!("counting {kind} {month} in the warehouse");
    let loaded_at: Option<String> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT finished_at::text FROM {LOAD_LOG} WHERE kind = $2 AND month = $1"
    )))
    .bind(month.first_day())
    .bind(kind.as_str())
    .fetch_optional(&mut *warehouse)
    .await
    .map_err(MartError::sql(what()))?
    .flatten();
    if let Some(at_load) = load_totals(warehouse, kind, month).await? {
        let services = at_load
            .iter()
            .map(|t| ServiceTotal { licence: t.licence.clone(), rows: t.rows, total: t.dollars() })
            .collect();
        return Ok(WarehouseTotals {
            services,
            loaded_at,
            counted: MoneyCount::AtLoad,
            at_load: Some(at_load),
        });
    }
    let (services, counted) = match cents_totals_sql(kind, &raw) {
        Some(sql) => (count(warehouse, sql, month, what).await?, MoneyCount::InWholeCents),
        None => (exact_totals(warehouse, kind, month).await?, MoneyCount::ValueByValue),
    };
    Ok(WarehouseTotals { services, loaded_at, counted, at_load: None })
}

/// What the month's load counted as it read the file (`raw.load_totals`), by licence; `None`
/// when it counted nothing (a load by an older release, or a value beyond the rule's
/// shortcut).
async fn load_totals(
    warehouse: &mut PgConnection,
    kind: TripKind,
    month: YearMonth,
) -> Result<Option<Vec<LicenceTotal>>, MartError> {
    let rows: Vec<(Option<String>, i64, String)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT licence, rows, passenger_cents::text FROM {LOAD_TOTALS} WHERE kind = $1 AND month = $2"
    )))
    .bind(kind.as_str())
    .bind(month.first_day())
    .fetch_all(warehouse)
    .await
    .map_err(MartError::sql(format!("reading {LOAD_TOTALS} of {kind} {month}")))?;
    let mut totals = PassengerTotals::default();
    for (licence, rows, cents) in rows {
        let cents = cents.parse::<i128>().map_err(|_| MartError::Cleaning {
            detail: format!("{LOAD_TOTALS} of {kind} {month}: {cents} is not a whole number of cents"),
        })?;
        totals.add(licence.as_deref().map(str::as_bytes), rows, cents);
    }
    Ok(totals.counted().filter(|t| !t.is_empty()))
}

/// The warehouse month's rows and passenger totals per licence, each value rounded by the
/// mart's rule ([`totals_sql`]), in the session's snapshot.
pub async fn exact_totals(
    warehouse: &mut PgConnection,
    kind: TripKind,
    month: YearMonth,
) -> Result<Vec<ServiceTotal>, MartError> {
    let raw = RawTable::new(kind).ok_or(MartError::UnsupportedKind(kind))?;
    count(warehouse, totals_sql(kind, &raw), month, || {
        format!("counting {kind} {month} in the warehouse value by value")
    })
    .await
}

async fn count(
    warehouse: &mut PgConnection,
    sql: String,
    month: YearMonth,
    what: impl Fn() -> String,
) -> Result<Vec<ServiceTotal>, MartError> {
    sqlx::query_as(AssertSqlSafe(sql))
        .bind(month.first_day())
        .fetch_all(warehouse)
        .await
        .map_err(MartError::sql(what()))
}

/// Replaces the staging table's contents with the warehouse month; returns the rows copied.
///
/// The TRUNCATE and the COPY share one transaction, so the COPY can use `FREEZE`: its rows
/// are written frozen on all-visible pages, and the passes of insertion.sql over the staging
/// table neither check each row's visibility nor dirty every page again to set hint bits.
pub async fn stage_month(
    warehouse: &mut PgConnection,
    mart: &mut PgConnection,
    kind: TripKind,
    month: YearMonth,
) -> Result<u64, MartError> {
    let what = |step: &str| format!("{step} {kind} {month}");
    let table = staging_table(kind);
    sqlx::raw_sql(AssertSqlSafe(format!("BEGIN; TRUNCATE {table}")))
        .execute(&mut *mart)
        .await
        .map_err(MartError::sql(what("emptying the staging table for")))?;
    // On an error the transaction stays open: the caller drops the connection (a failed COPY
    // can leave it unusable) and the server rolls the TRUNCATE back.
    let staged = copy_month(warehouse, mart, kind, month).await?;
    sqlx::raw_sql("COMMIT")
        .execute(&mut *mart)
        .await
        .map_err(MartError::sql(what("committing the staging of")))?;
    Ok(staged)
}

async fn copy_month(
    warehouse: &mut PgConnection,
    mart: &mut PgConnection,
    kind: TripKind,
    month: YearMonth,
) -> Result<u64, MartError> {
    let what = |step: &str| format!("{step} {kind} {month}");
    let table = staging_table(kind);
    let staging = staging_columns(mart, table).await?;
    let copy_out = format!("COPY ({}) TO STDOUT (FORMAT binary)", warehouse_select(kind, month, &staging)?);
    let names: Vec<String> = staging.iter().map(|c| quote_ident(&c.name)).collect();
    let copy_in = format!("COPY {table} ({}) FROM STDIN (FORMAT binary, FREEZE true)", names.join(", "));
    let mut rows = warehouse.copy_out_raw(&copy_out).await.map_err(MartError::sql(what("reading")))?;
    let mut sink =
        mart.copy_in_raw(&copy_in).await.map_err(MartError::sql(what("starting the staging COPY of")))?;
    let mut buffer = BytesMut::with_capacity(CHUNK_BYTES + (64 << 10));
    while let Some(chunk) = rows.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                let _ = sink.abort(format!("the warehouse stopped sending: {e}")).await;
                return Err(MartError::Sql { what: what("reading"), source: e });
            }
        };
        buffer.extend_from_slice(&chunk);
        if buffer.len() >= CHUNK_BYTES {
            sink.send(buffer.split().freeze()).await.map_err(MartError::sql(what("staging")))?;
        }
    }
    if !buffer.is_empty() {
        sink.send(buffer.freeze()).await.map_err(MartError::sql(what("staging")))?;
    }
    sink.finish().await.map_err(MartError::sql(what("finishing the staging COPY of")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staging(names: &[&str]) -> Vec<StagingColumn> {
        names
            .iter()
            .map(|n| StagingColumn { name: (*n).into(), sql_type: "double precision".into() })
            .collect()
    }

    #[test]
    fn each_staging_column_is_fed_by_its_raw_column_or_refused() {
        let month: YearMonth = "2024-01".parse().unwrap();
        let sql =
            warehouse_select(TripKind::Yellow, month, &staging(&["pickup_at", "ehail_fee", "fare_amount"]))
                .unwrap();
        assert!(sql.contains("\"tpep_pickup_datetime\"::double precision AS \"pickup_at\""), "{sql}");
        assert!(sql.contains("NULL::double precision AS \"ehail_fee\""), "{sql}");
        assert!(
            sql.ends_with("FROM raw.\"yellow_tripdata\" WHERE source_month = DATE '2024-01-01'"),
            "{sql}"
        );
        let err = warehouse_select(TripKind::Green, month, &staging(&["fare_amout"])).unwrap_err();
        assert!(matches!(&err, MartError::StagingColumn { column } if column == "fare_amout"), "{err}");
    }
}
