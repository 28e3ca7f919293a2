//! The warehouse's side of a month's accounting: per licence, the rows of the warehouse month
//! and the passengers' money, each value rounded by the mart's rule. Read from what the
//! month's load counted as it read the file (`raw.load_totals`), or counted on the warehouse
//! server, in the build's snapshot: in whole cents beside the stream for a kind of several
//! money columns ([`cents_totals_sql`]), value by value by the rule otherwise
//! ([`exact_totals`]). The build ([`crate::build_month`]) decides after the stream which
//! holds.

use atl_core::money::{LicenceTotal, PassengerTotals, SHORTCUT_BOUND, SHORTCUT_DISTANCE};
use atl_core::raw::{LOAD_LOG, LOAD_TOTALS, RawTable, quote_ident};
use atl_core::schema::{licence_column, passenger_total_columns};
use atl_core::{TripKind, YearMonth};
use sqlx::{AssertSqlSafe, PgConnection};

use crate::error::MartError;

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
/// when the stream met a value beyond the rule's integer shortcut, or rows that do not add up
/// to their load's count.
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
        // As the warehouse's count writes them: build_log keeps a numeric's scale, and a kind
        // without money (other FHV) counts a plain 0.
        let moneyless = passenger_total_columns(kind).is_empty();
        let services = at_load
            .iter()
            .map(|t| ServiceTotal {
                licence: t.licence.clone(),
                rows: t.rows,
                total: if moneyless { "0".to_owned() } else { t.dollars() },
            })
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
