//! The exploratory report over the warehouse's raw tables (`raw.yellow_tripdata`,
//! `raw.green_tripdata`): per column and month the null rate, min/max, quantiles and a
//! histogram, and per month the counts of anomalous rows.
//!
//! The warehouse is read with plain SQL (`sql/eda/*.sql`), month by month, over a read-only
//! connection:
//! 1. one pass over every row of the month (`month_stats.sql`): row count, non-null and
//!    negative counts, min and max of every column, and every anomaly count: all exact;
//! 2. quantiles (`month_quantiles.sql`) and histograms (`month_histograms.sql`,
//!    `month_values.sql`) on the same page sample (`TABLESAMPLE SYSTEM ... REPEATABLE`) when
//!    the month has more rows than [`EdaRequest::sample_rows`], on every row otherwise.
//!
//! Histograms of a numeric column share their bins across months (from the lowest p1 to the
//! highest p99, so that a few absurd values do not squash them; what falls outside is
//! counted below the chart); timestamp columns get one bin per day of their month.
//! [`page::eda_page`] lays it all out as one self-contained HTML page.

pub mod charts;
pub mod page;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use atl_core::schema::money_columns;
use atl_core::{DatabaseConfig, MonthRange, TripKind, YearMonth};
use chrono::NaiveDate;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, Connection, PgConnection, Row};

use crate::error::VizError;

/// Months with more rows than this get quantiles and histograms from a sample of about as
/// many rows.
pub const DEFAULT_SAMPLE_ROWS: i64 = 500_000;
/// Bins of a continuous histogram (about; the edges are rounded to 1, 2, 2.5 or 5 × 10^k).
pub const BINS: usize = 40;
/// Integer-valued columns spanning at most this many values get one bin per value.
const MAX_UNIT_BINS: f64 = 60.0;
/// The quantiles shown, as fractions.
pub const QUANTILES: [f64; 5] = [0.01, 0.25, 0.5, 0.75, 0.99];
/// Their column names on the page and in `data-stat`.
pub const QUANTILE_NAMES: [&str; 5] = ["p1", "p25", "p50", "p75", "p99"];
/// The seed of `TABLESAMPLE ... REPEATABLE`: quantiles and histograms read the same sample.
const SAMPLE_SEED: f64 = 20_230_101.0;
/// Distinct values kept per text column and month; the rest are summed as "(other)".
const TOP_VALUES: usize = 12;

/// An anomaly counted per month: machine key (`data-anomaly`), label, definition.
#[derive(Debug, Clone, Copy)]
pub struct Anomaly {
    pub key: &'static str,
    pub label: &'static str,
    pub definition: &'static str,
}

/// The anomalies of `month_stats.sql`, in its order.
pub const ANOMALIES: [Anomaly; 9] = [
    Anomaly {
        key: "negative_amount",
        label: "Negative amount",
        definition: "at least one money column (fare, extra, taxes, tip, tolls, surcharges, fees, total) below zero",
    },
    Anomaly {
        key: "zero_distance",
        label: "Zero distance",
        definition: "trip_distance (trip_miles for high-volume FHV) = 0",
    },
    Anomaly {
        key: "out_of_month",
        label: "Pickup out of month",
        definition: "pickup time outside the month of the file (source_month)",
    },
    Anomaly {
        key: "dropoff_before_pickup",
        label: "Dropoff before pickup",
        definition: "dropoff time earlier than pickup time",
    },
    Anomaly { key: "unknown_vendor", label: "Unknown vendor", definition: "vendorid not in 1, 2, 6, 7" },
    Anomaly {
        key: "unknown_ratecode",
        label: "Unknown rate code",
        definition: "ratecodeid not in 1–6 or 99",
    },
    Anomaly {
        key: "unknown_payment_type",
        label: "Unknown payment type",
        definition: "payment_type not in 0–6",
    },
    Anomaly {
        key: "unknown_pickup_zone",
        label: "Pickup zone outside 1–265",
        definition: "pulocationid not between 1 and 265",
    },
    Anomaly {
        key: "unknown_dropoff_zone",
        label: "Dropoff zone outside 1–265",
        definition: "dolocationid not between 1 and 265",
    },
];

/// What to profile.
#[derive(Debug, Clone)]
pub struct EdaRequest {
    /// Any kind the warehouse has a raw table for.
    pub kind: TripKind,
    /// `None`: every month the warehouse holds for `kind`.
    pub months: Option<MonthRange>,
    /// Months with more rows are sampled for quantiles and histograms; 0 never samples.
    pub sample_rows: i64,
}

impl EdaRequest {
    pub fn new(kind: TripKind) -> EdaRequest {
        EdaRequest { kind, months: None, sample_rows: DEFAULT_SAMPLE_ROWS }
    }
}

/// How the page reads and draws a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Integer,
    Float,
    /// Figures in seconds since the epoch.
    Timestamp,
    /// Null rate and value counts only.
    Text,
}

impl ColumnKind {
    fn of(data_type: &str) -> ColumnKind {
        match data_type {
            "bigint" | "integer" | "smallint" => ColumnKind::Integer,
            "double precision" | "real" | "numeric" => ColumnKind::Float,
            t if t.starts_with("timestamp") => ColumnKind::Timestamp,
            _ => ColumnKind::Text,
        }
    }

    /// Whether the column has min/max, quantiles and a binned histogram.
    pub fn is_numeric(self) -> bool {
        !matches!(self, ColumnKind::Text)
    }
}

/// A column of the raw table.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// As `information_schema` names it: `bigint`, `double precision`, ...
    pub data_type: String,
    pub kind: ColumnKind,
}

/// One column in one month. Min, max and quantiles are `None` when every value is null.
#[derive(Debug, Clone, Default)]
pub struct ColumnStats {
    pub non_null: i64,
    pub negative: i64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// p1, p25, p50, p75, p99 ([`QUANTILES`]), on the month's sample.
    pub quantiles: Option<[f64; 5]>,
}

/// Bins `[lo + i·width, lo + (i+1)·width)`, `i` in `0..counts.len()`, and what fell outside.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    pub lo: f64,
    pub hi: f64,
    pub counts: Vec<i64>,
    pub below: i64,
    pub above: i64,
}

impl Histogram {
    pub fn width(&self) -> f64 {
        (self.hi - self.lo) / self.counts.len().max(1) as f64
    }
}

/// A column's distribution in one month (on the sample).
#[derive(Debug, Clone, PartialEq)]
pub enum Distribution {
    Bins(Histogram),
    /// (value, rows), most frequent first.
    Values(Vec<(String, i64)>),
    /// No non-null value.
    Empty,
}

/// Everything the report shows about one month.
#[derive(Debug, Clone)]
pub struct MonthProfile {
    pub month: YearMonth,
    pub rows: i64,
    /// Share of the month's pages read for quantiles and histograms, in percent (100: all).
    pub sample_percent: f64,
    /// In column order.
    pub columns: Vec<ColumnStats>,
    /// In column order.
    pub distributions: Vec<Distribution>,
    /// In [`ANOMALIES`] order.
    pub anomalies: Vec<i64>,
    /// Rows with at least one anomaly.
    pub anomalous_rows: i64,
}

impl MonthProfile {
    pub fn is_sampled(&self) -> bool {
        self.sample_percent < 100.0
    }
}

/// The report's data.
#[derive(Debug, Clone)]
pub struct Eda {
    pub kind: TripKind,
    /// `raw.yellow_tripdata`.
    pub table: String,
    pub period: MonthRange,
    pub columns: Vec<Column>,
    /// Per anomaly of [`ANOMALIES`], whether the table has the columns it is about; the
    /// others are not shown (fhv has no money, the for-hire kinds no vendor or payment type).
    pub applicable: Vec<bool>,
    pub months: Vec<MonthProfile>,
    pub sample_rows: i64,
    pub query_time: Duration,
}

/// `"name"`, doubled inner quotes: the only text ever formatted into the report's SQL.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `template` without its comment lines, each `{key}` replaced by its value.
fn fill(template: &str, pairs: &[(&str, &str)]) -> String {
    let code: Vec<&str> = template.lines().filter(|l| !l.trim_start().starts_with("--")).collect();
    pairs.iter().fold(code.join("\n"), |sql, (key, value)| sql.replace(&format!("{{{key}}}"), value))
}

/// The SQL of one report, built once from `sql/eda/*.sql` and the table's columns.
#[derive(Debug)]
struct Queries {
    stats: String,
    /// Per anomaly of [`ANOMALIES`], whether the table has what it needs (fhv has no money
    /// column, the for-hire kinds no vendor, rate code or payment type).
    applicable: Vec<bool>,
    quantiles: Option<String>,
    histograms: Option<String>,
    values: Option<String>,
}

impl Queries {
    fn new(table: &str, columns: &[Column]) -> Result<Queries, VizError> {
        let missing =
            |what: String| VizError::WarehouseSchema { table: format!("raw.{table}"), detail: what };
        let has = |name: &str| columns.iter().any(|c| c.name == name);
        let time_column = |suffix: &str| {
            columns
                .iter()
                .find(|c| c.kind == ColumnKind::Timestamp && c.name.ends_with(suffix))
                .map(|c| quote_ident(&c.name))
                .ok_or_else(|| missing(format!("no timestamp column ending in {suffix}")))
        };
        let (pickup, dropoff) = (time_column("pickup_datetime")?, time_column("dropoff_datetime")?);
        let amounts: Vec<String> =
            money_columns().into_iter().filter(|n| has(n)).map(|n| format!("m.{}", quote_ident(n))).collect();
        let flag = |column: Option<&str>, test: &str| -> Option<String> {
            column.filter(|c| has(c)).map(|c| format!("m.{} {test}", quote_ident(c)))
        };
        let distance = ["trip_distance", "trip_miles"].into_iter().find(|c| has(c));
        // In ANOMALIES order; None: the table lacks the column, the flag is NULL (never counted).
        let flags: [(&str, Option<String>); 9] = [
            ("negative_amount", (!amounts.is_empty()).then(|| format!("least({}) < 0", amounts.join(", ")))),
            ("zero_distance", flag(distance, "= 0")),
            (
                "out_of_month",
                Some(format!("m.{pickup} < $1::date OR m.{pickup} >= $1::date + interval '1 month'")),
            ),
            ("dropoff_before_pickup", Some(format!("m.{dropoff} < m.{pickup}"))),
            ("unknown_vendor", flag(Some("vendorid"), "NOT IN (1, 2, 6, 7)")),
            ("unknown_ratecode", flag(Some("ratecodeid"), "NOT IN (1, 2, 3, 4, 5, 6, 99)")),
            ("unknown_payment_type", flag(Some("payment_type"), "NOT IN (0, 1, 2, 3, 4, 5, 6)")),
            ("unknown_pickup_zone", flag(Some("pulocationid"), "NOT BETWEEN 1 AND 265")),
            ("unknown_dropoff_zone", flag(Some("dolocationid"), "NOT BETWEEN 1 AND 265")),
        ];
        debug_assert!(flags.iter().zip(&ANOMALIES).all(|((k, _), a)| *k == a.key));
        let applicable: Vec<bool> = flags.iter().map(|(_, f)| f.is_some()).collect();
        let flag_sql: Vec<(&str, String)> =
            flags.into_iter().map(|(k, f)| (k, f.unwrap_or_else(|| "NULL::boolean".into()))).collect();
        let stats_columns: Vec<String> = columns
            .iter()
            .map(|c| {
                let fragment = match c.kind {
                    ColumnKind::Integer | ColumnKind::Float => include_str!("../../sql/eda/stats_number.sql"),
                    ColumnKind::Timestamp => include_str!("../../sql/eda/stats_timestamp.sql"),
                    ColumnKind::Text => include_str!("../../sql/eda/stats_text.sql"),
                };
                fill(fragment.trim(), &[("column", &quote_ident(&c.name))])
            })
            .collect();
        let quoted_table = quote_ident(table);
        let joined = stats_columns.join(",\n       ");
        let mut pairs: Vec<(&str, &str)> = vec![("table", &quoted_table), ("columns", &joined)];
        pairs.extend(flag_sql.iter().map(|(k, v)| (*k, v.as_str())));
        let stats = fill(include_str!("../../sql/eda/month_stats.sql"), &pairs);
        let values: Vec<String> = columns
            .iter()
            .filter(|c| c.kind.is_numeric())
            .map(|c| {
                let fragment = match c.kind {
                    ColumnKind::Timestamp => include_str!("../../sql/eda/value_timestamp.sql"),
                    _ => include_str!("../../sql/eda/value_number.sql"),
                };
                fill(fragment.trim(), &[("column", &format!("m.{}", quote_ident(&c.name)))])
            })
            .collect();
        let (quantiles, histograms) = if values.is_empty() {
            (None, None)
        } else {
            let each: Vec<String> = values
                .iter()
                .map(|v| fill(include_str!("../../sql/eda/quantile.sql").trim(), &[("value", v)]))
                .collect();
            (
                Some(fill(
                    include_str!("../../sql/eda/month_quantiles.sql"),
                    &[("table", &quoted_table), ("quantiles", &each.join(",\n       "))],
                )),
                Some(fill(
                    include_str!("../../sql/eda/month_histograms.sql"),
                    &[("table", &quoted_table), ("values", &values.join(", "))],
                )),
            )
        };
        let texts: Vec<String> = columns
            .iter()
            .filter(|c| c.kind == ColumnKind::Text)
            .map(|c| format!("m.{}::text", quote_ident(&c.name)))
            .collect();
        let values = (!texts.is_empty()).then(|| {
            fill(
                include_str!("../../sql/eda/month_values.sql"),
                &[("table", &quoted_table), ("columns", &texts.join(", "))],
            )
        });
        Ok(Queries { stats, applicable, quantiles, histograms, values })
    }
}

/// A read-only connection to the warehouse.
async fn connect(db: &DatabaseConfig) -> Result<PgConnection, VizError> {
    let url = db.url.to_string();
    let options = atl_core::pg_connect::connect_options(db.url.expose())
        .map_err(|source| VizError::WarehouseUnreachable { url: url.clone(), source })?
        .application_name("atl-viz eda")
        .options([("default_transaction_read_only", "on")]);
    PgConnection::connect_with(&options)
        .await
        .map_err(|source| VizError::WarehouseUnreachable { url, source })
}

fn query_error(query: &'static str) -> impl Fn(sqlx::Error) -> VizError {
    move |source| VizError::Warehouse { query, source }
}

/// Profiles the requested months of the warehouse at `db`.
pub async fn profile(db: &DatabaseConfig, request: &EdaRequest) -> Result<Eda, VizError> {
    let started = Instant::now();
    let table = atl_core::RawTable::new(request.kind)
        .ok_or_else(|| VizError::NoRawTable { kind: request.kind.to_string() })?
        .name();
    let mut conn = connect(db).await?;
    let columns: Vec<(String, String)> = sqlx::query_as(include_str!("../../sql/eda/columns.sql"))
        .bind(&table)
        .fetch_all(&mut conn)
        .await
        .map_err(query_error("columns.sql"))?;
    if columns.is_empty() {
        return Err(VizError::WarehouseSchema {
            table: format!("raw.{table}"),
            detail: "the table does not exist (run atl-warehouse first)".into(),
        });
    }
    let columns: Vec<Column> = columns
        .into_iter()
        .map(|(name, data_type)| Column { kind: ColumnKind::of(&data_type), name, data_type })
        .collect();
    let queries = Queries::new(&table, &columns)?;

    let bounds = request.months.map(|r| (r.first().first_day(), r.last().first_day()));
    let months: Vec<(NaiveDate, i64)> = sqlx::query_as(include_str!("../../sql/eda/months.sql"))
        .bind(request.kind.as_str())
        .bind(bounds.map(|b| b.0))
        .bind(bounds.map(|b| b.1))
        .fetch_all(&mut conn)
        .await
        .map_err(query_error("months.sql"))?;
    let (Some(first), Some(last)) = (months.first(), months.last()) else {
        return Err(VizError::NoWarehouseMonths {
            table: format!("raw.{table}"),
            months: request.months.map(|m| m.to_string()).unwrap_or_else(|| "any month".into()),
        });
    };
    let period = request
        .months
        .or_else(|| MonthRange::new(YearMonth::of(first.0), YearMonth::of(last.0)))
        .unwrap_or(MonthRange::single(YearMonth::of(first.0)));

    let mut profiles = Vec::with_capacity(months.len());
    for &(day, logged_rows) in &months {
        let sample_percent = if request.sample_rows > 0 && logged_rows > request.sample_rows {
            (request.sample_rows as f64 / logged_rows as f64 * 100.0).clamp(0.001, 100.0)
        } else {
            100.0
        };
        let mut profile = month_stats(&mut conn, &queries, &columns, day, sample_percent).await?;
        if let Some(sql) = &queries.quantiles {
            month_quantiles(&mut conn, sql, &columns, day, &mut profile).await?;
        }
        profiles.push(profile);
    }
    let mut profiles_out = Vec::with_capacity(profiles.len());
    let shared = shared_bins(&columns, &profiles);
    for mut profile in profiles {
        let day = profile.month.first_day();
        let specs: Vec<Option<(f64, f64, usize)>> = columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.kind.is_numeric())
            .map(|(i, c)| match c.kind {
                ColumnKind::Timestamp => {
                    let (lo, hi) = (epoch(profile.month.start()), epoch(profile.month.next().start()));
                    Some((lo, hi, profile.month.days() as usize))
                }
                _ => shared[i],
            })
            .collect();
        let mut distributions = vec![Distribution::Empty; columns.len()];
        if let Some(sql) = &queries.histograms {
            histograms(&mut conn, sql, &columns, &specs, day, profile.sample_percent, &mut distributions)
                .await?;
        }
        if let Some(sql) = &queries.values {
            text_values(&mut conn, sql, &columns, day, profile.sample_percent, &mut distributions).await?;
        }
        profile.distributions = distributions;
        profiles_out.push(profile);
    }
    conn.close().await.map_err(query_error("close"))?;
    Ok(Eda {
        kind: request.kind,
        table: format!("raw.{table}"),
        period,
        columns,
        applicable: queries.applicable.clone(),
        months: profiles_out,
        sample_rows: request.sample_rows,
        query_time: started.elapsed(),
    })
}

fn epoch(t: chrono::NaiveDateTime) -> f64 {
    t.and_utc().timestamp() as f64
}

async fn month_stats(
    conn: &mut PgConnection,
    queries: &Queries,
    columns: &[Column],
    day: NaiveDate,
    sample_percent: f64,
) -> Result<MonthProfile, VizError> {
    let row: PgRow = sqlx::query(AssertSqlSafe(queries.stats.as_str()))
        .bind(day)
        .fetch_one(&mut *conn)
        .await
        .map_err(query_error("month_stats.sql"))?;
    let get = |i: usize| -> Result<Option<i64>, VizError> {
        row.try_get::<Option<i64>, _>(i).map_err(query_error("month_stats.sql"))
    };
    let getf = |i: usize| -> Result<Option<f64>, VizError> {
        row.try_get::<Option<f64>, _>(i).map_err(query_error("month_stats.sql"))
    };
    let rows = get(0)?.unwrap_or(0);
    let mut stats = Vec::with_capacity(columns.len());
    for i in 0..columns.len() {
        let at = 1 + 4 * i;
        stats.push(ColumnStats {
            non_null: get(at)?.unwrap_or(0),
            negative: get(at + 1)?.unwrap_or(0),
            min: getf(at + 2)?,
            max: getf(at + 3)?,
            quantiles: None,
        });
    }
    let at = 1 + 4 * columns.len();
    let anomalies =
        (0..ANOMALIES.len()).map(|k| Ok(get(at + k)?.unwrap_or(0))).collect::<Result<_, VizError>>()?;
    let anomalous_rows = get(at + ANOMALIES.len())?.unwrap_or(0);
    Ok(MonthProfile {
        month: YearMonth::of(day),
        rows,
        sample_percent,
        columns: stats,
        distributions: Vec::new(),
        anomalies,
        anomalous_rows,
    })
}

async fn month_quantiles(
    conn: &mut PgConnection,
    sql: &str,
    columns: &[Column],
    day: NaiveDate,
    profile: &mut MonthProfile,
) -> Result<(), VizError> {
    let row: PgRow = sqlx::query(AssertSqlSafe(sql))
        .bind(day)
        .bind(profile.sample_percent as f32)
        .bind(SAMPLE_SEED)
        .fetch_one(&mut *conn)
        .await
        .map_err(query_error("month_quantiles.sql"))?;
    for (k, (i, _)) in columns.iter().enumerate().filter(|(_, c)| c.kind.is_numeric()).enumerate() {
        let q: Option<Vec<Option<f64>>> = row.try_get(k).map_err(query_error("month_quantiles.sql"))?;
        profile.columns[i].quantiles = q.and_then(|q| match q.as_slice() {
            [Some(a), Some(b), Some(c), Some(d), Some(e)] => Some([*a, *b, *c, *d, *e]),
            _ => None,
        });
    }
    Ok(())
}

/// `1, 2, 2.5, 5 × 10^k`, the smallest at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

/// The bins of a numeric column, shared by every month: from the lowest p1 to the highest
/// p99 over the months (from min to max when that is not much wider); one bin per integer
/// for integer-valued columns with a small range.
/// `extent` is the (min, max) over the months: integer codes whose whole range is small get
/// a bar for every value, rare ones included (an unknown code is worth seeing).
pub fn bins_for(
    kind: ColumnKind,
    quantiles: &[[f64; 5]],
    extent: Option<(f64, f64)>,
) -> Option<(f64, f64, usize)> {
    let lo = quantiles.iter().map(|q| q[0]).fold(f64::INFINITY, f64::min);
    let hi = quantiles.iter().map(|q| q[4]).fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() {
        return None;
    }
    let integral =
        kind == ColumnKind::Integer || quantiles.iter().all(|q| q.iter().all(|v| v.fract() == 0.0));
    let unit_bins = |lo: f64, hi: f64| {
        let (lo, hi) = (lo.floor() - 0.5, hi.ceil() + 0.5);
        Some((lo, hi, (hi - lo).round() as usize))
    };
    match extent {
        Some((min, max)) if integral && max - min <= MAX_UNIT_BINS => return unit_bins(min, max),
        _ if integral && hi - lo <= MAX_UNIT_BINS => return unit_bins(lo, hi),
        _ => {}
    }
    // No absurd value beyond the percentiles (zone ids 1..265): draw everything.
    let (lo, hi) = match extent {
        Some((min, max)) if max - min <= 1.5 * (hi - lo) => (min, max),
        _ => (lo, hi),
    };
    if hi - lo <= f64::EPSILON * lo.abs().max(1.0) * 64.0 {
        let step = nice_step(lo.abs().max(1.0) / 10.0);
        let lo = (lo / step).floor() * step - step;
        return Some((lo, lo + 3.0 * step, 3));
    }
    let step = nice_step((hi - lo) / BINS as f64);
    let start = (lo / step).floor() * step;
    let bins = ((hi - start) / step).floor() as usize + 1;
    Some((start, start + bins as f64 * step, bins))
}

fn shared_bins(columns: &[Column], profiles: &[MonthProfile]) -> Vec<Option<(f64, f64, usize)>> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let quantiles: Vec<[f64; 5]> = profiles.iter().filter_map(|p| p.columns[i].quantiles).collect();
            let min = profiles.iter().filter_map(|p| p.columns[i].min).reduce(f64::min);
            let max = profiles.iter().filter_map(|p| p.columns[i].max).reduce(f64::max);
            let extent = min.zip(max);
            if c.kind.is_numeric() { bins_for(c.kind, &quantiles, extent) } else { None }
        })
        .collect()
}

async fn histograms(
    conn: &mut PgConnection,
    sql: &str,
    columns: &[Column],
    specs: &[Option<(f64, f64, usize)>],
    day: NaiveDate,
    sample_percent: f64,
    out: &mut [Distribution],
) -> Result<(), VizError> {
    // Columns without bins (all null everywhere) get a dummy range: they have no value.
    let lo: Vec<f64> = specs.iter().map(|s| s.map_or(0.0, |s| s.0)).collect();
    let hi: Vec<f64> = specs.iter().map(|s| s.map_or(1.0, |s| s.1)).collect();
    let n: Vec<i32> = specs.iter().map(|s| s.map_or(1, |s| s.2 as i32)).collect();
    let rows: Vec<(i32, i32, i64)> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(day)
        .bind(sample_percent as f32)
        .bind(SAMPLE_SEED)
        .bind(&lo)
        .bind(&hi)
        .bind(&n)
        .fetch_all(&mut *conn)
        .await
        .map_err(query_error("month_histograms.sql"))?;
    let numeric: Vec<usize> =
        columns.iter().enumerate().filter(|(_, c)| c.kind.is_numeric()).map(|(i, _)| i).collect();
    for (k, &column) in numeric.iter().enumerate() {
        let Some((lo, hi, bins)) = specs[k] else { continue };
        let mut h = Histogram { lo, hi, counts: vec![0; bins], below: 0, above: 0 };
        let mut any = false;
        for &(_, bucket, count) in rows.iter().filter(|r| r.0 as usize == k + 1) {
            any = true;
            match bucket {
                0 => h.below += count,
                b if b as usize > bins => h.above += count,
                b => h.counts[b as usize - 1] += count,
            }
        }
        if any {
            out[column] = Distribution::Bins(h);
        }
    }
    Ok(())
}

async fn text_values(
    conn: &mut PgConnection,
    sql: &str,
    columns: &[Column],
    day: NaiveDate,
    sample_percent: f64,
    out: &mut [Distribution],
) -> Result<(), VizError> {
    let rows: Vec<(i32, String, i64)> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(day)
        .bind(sample_percent as f32)
        .bind(SAMPLE_SEED)
        .fetch_all(&mut *conn)
        .await
        .map_err(query_error("month_values.sql"))?;
    let texts: Vec<usize> =
        columns.iter().enumerate().filter(|(_, c)| c.kind == ColumnKind::Text).map(|(i, _)| i).collect();
    for (k, &column) in texts.iter().enumerate() {
        let mut values: Vec<(String, i64)> =
            rows.iter().filter(|r| r.0 as usize == k + 1).map(|r| (r.1.clone(), r.2)).collect();
        if values.len() > TOP_VALUES {
            let other: i64 = values[TOP_VALUES - 1..].iter().map(|v| v.1).sum();
            values.truncate(TOP_VALUES - 1);
            values.push(("(other)".into(), other));
        }
        if !values.is_empty() {
            out[column] = Distribution::Values(values);
        }
    }
    Ok(())
}

/// A rendered report.
#[derive(Debug, Clone)]
pub struct EdaReport {
    pub eda: Eda,
    pub html: String,
    /// (figure name, SVG) of every chart.
    pub charts: Vec<charts::EdaChart>,
    pub render_time: Duration,
}

/// Draws the charts and the page (no I/O).
pub fn render(eda: Eda) -> Result<EdaReport, VizError> {
    let started = Instant::now();
    let charts = charts::all(&eda)?;
    let generated_at = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
    let html = page::eda_page(&eda, &charts, &generated_at);
    Ok(EdaReport { eda, html, charts, render_time: started.elapsed() })
}

/// What [`write_eda`] wrote.
#[derive(Debug, Clone)]
pub struct WrittenEda {
    /// `out_dir/index.html`, the self-contained page.
    pub index: PathBuf,
    pub report: EdaReport,
}

/// Profiles the warehouse at `db` and writes the report into `out_dir/index.html`.
pub async fn write_eda(
    db: &DatabaseConfig,
    request: &EdaRequest,
    out_dir: &Path,
) -> Result<WrittenEda, VizError> {
    let eda = profile(db, request).await?;
    let out_dir = out_dir.to_owned();
    // Rendering the charts and writing the page block: not on the async runtime's threads.
    tokio::task::spawn_blocking(move || {
        let report = render(eda)?;
        std::fs::create_dir_all(&out_dir)
            .map_err(|source| VizError::Write { path: out_dir.clone(), source })?;
        let index = out_dir.join("index.html");
        std::fs::write(&index, report.html.as_bytes())
            .map_err(|source| VizError::Write { path: index.clone(), source })?;
        Ok(WrittenEda { index, report })
    })
    .await
    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_cover_p1_to_p99_on_round_edges() {
        let (lo, hi, n) = bins_for(
            ColumnKind::Float,
            &[[0.3, 1.0, 1.7, 3.1, 19.84], [0.2, 1.1, 1.8, 3.0, 21.3]],
            Some((-5.0, 9e4)),
        )
        .unwrap();
        // 21.1 / 40 rounds up to bins of 1.
        assert_eq!((lo, hi, n), (0.0, 22.0, 22));
        let (lo, hi, n) = bins_for(ColumnKind::Float, &[[-3.2, 0.0, 8.0, 12.0, 70.1]], None).unwrap();
        assert_eq!((lo, hi, n), (-4.0, 72.0, 38));
        // Without outliers beyond p1..p99 the bins run from min to max.
        assert_eq!(
            bins_for(ColumnKind::Integer, &[[4.0, 79.0, 132.0, 163.0, 253.0]], Some((1.0, 265.0))),
            Some((0.0, 270.0, 27))
        );
        // Codes: one bin per integer, centred on it.
        assert_eq!(
            bins_for(ColumnKind::Float, &[[1.0, 1.0, 1.0, 2.0, 4.0]], Some((1.0, 99.0))),
            Some((0.5, 4.5, 4))
        );
        // ... every value of a small range, the rare ones too.
        assert_eq!(
            bins_for(ColumnKind::Integer, &[[1.0, 1.0, 2.0, 2.0, 2.0]], Some((1.0, 7.0))),
            Some((0.5, 7.5, 7))
        );
        // A constant non-integer: three bins around it.
        let (lo, hi, n) = bins_for(ColumnKind::Float, &[[0.5; 5]], Some((0.5, 0.5))).unwrap();
        assert!(lo < 0.5 && 0.5 < hi && n == 3, "{lo} {hi} {n}");
        assert_eq!(bins_for(ColumnKind::Float, &[], None), None);
    }

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(0.43), 0.5);
        assert_eq!(nice_step(2.1), 2.5);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(1.0), 1.0);
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("fare_amount"), "\"fare_amount\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn queries_fill_every_placeholder() {
        let columns: Vec<Column> = [
            ("vendorid", "bigint"),
            ("tpep_pickup_datetime", "timestamp without time zone"),
            ("tpep_dropoff_datetime", "timestamp without time zone"),
            ("trip_distance", "double precision"),
            ("ratecodeid", "double precision"),
            ("store_and_fwd_flag", "text"),
            ("pulocationid", "bigint"),
            ("dolocationid", "bigint"),
            ("payment_type", "double precision"),
            ("fare_amount", "double precision"),
            ("total_amount", "double precision"),
        ]
        .iter()
        .map(|(n, t)| Column { name: (*n).into(), data_type: (*t).into(), kind: ColumnKind::of(t) })
        .collect();
        let q = Queries::new("yellow_tripdata", &columns).unwrap();
        for sql in [Some(&q.stats), q.quantiles.as_ref(), q.histograms.as_ref(), q.values.as_ref()] {
            let sql = sql.unwrap();
            assert!(!sql.contains('{') && !sql.contains('}'), "{sql}");
        }
        assert!(q.stats.contains("least(m.\"fare_amount\", m.\"total_amount\") < 0"), "{}", q.stats);
        assert!(q.stats.contains("m.\"tpep_pickup_datetime\" < $1::date"));
        assert!(q.applicable.iter().all(|a| *a));
        // Without vendorid, the vendor anomaly is not applicable; without a pickup time,
        // there is no report.
        let no_vendor = Queries::new("yellow_tripdata", &columns[1..]).unwrap();
        let vendor = ANOMALIES.iter().position(|a| a.key == "unknown_vendor").unwrap();
        assert!(!no_vendor.applicable[vendor] && !no_vendor.stats.contains("\"vendorid\" NOT IN"));
        let no_pickup: Vec<Column> = columns.iter().filter(|c| !c.name.contains("pickup")).cloned().collect();
        assert!(Queries::new("yellow_tripdata", &no_pickup).is_err());
    }
}
