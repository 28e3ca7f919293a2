//! The exploratory report's reading of the warehouse's raw tables, with plain SQL
//! (`sql/eda/*.sql`, built by [`sql::Queries`]), month by month, over a read-only connection:
//! 1. one pass over every row of the month (`month_stats.sql`): row count, non-null and
//!    negative counts, min and max of every column, and every anomaly count: all exact;
//! 2. quantiles (`month_quantiles.sql`) and histograms (`month_histograms.sql`,
//!    `month_values.sql`) on the same page sample (`TABLESAMPLE SYSTEM ... REPEATABLE`) when
//!    the month has more rows than [`EdaRequest::sample_rows`], on every row otherwise.
//!
//! Histograms of a numeric column share their bins across months ([`shared_bins`]);
//! timestamp columns get one bin per day of their month.

pub mod sql;

use std::collections::HashMap;
use std::time::Instant;

use atl_core::{DatabaseConfig, MonthRange, YearMonth};
use chrono::NaiveDate;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::error::VizError;
use crate::model::eda::{
    ANOMALIES, Bins, Column, ColumnKind, ColumnStats, Distribution, Eda, EdaRequest, Histogram, MonthProfile,
    QUANTILES, ValueCount, shared_bins, top_values,
};
use sql::{ANOMALOUS_ROWS, MONTH, Named, Queries, ROWS, Stat, quantile_fractions};

/// The seed of `TABLESAMPLE ... REPEATABLE`: quantiles and histograms read the same sample.
const SAMPLE_SEED: f64 = 20_230_101.0;

#[derive(sqlx::FromRow)]
struct ColumnRow {
    name: String,
    data_type: String,
}

#[derive(sqlx::FromRow)]
struct MonthRow {
    month: NaiveDate,
    rows: i64,
}

/// A figure of month_stats.sql or month_quantiles.sql.
#[derive(sqlx::FromRow)]
struct Figure {
    subject: String,
    measure: String,
    value: Option<f64>,
}

#[derive(sqlx::FromRow)]
struct BucketRow {
    subject: String,
    bucket: i32,
    rows: i64,
}

#[derive(sqlx::FromRow)]
struct ValueRow {
    subject: String,
    value: String,
    rows: i64,
}

/// A read-only connection to the warehouse.
async fn connect(db: &DatabaseConfig) -> Result<PgConnection, VizError> {
    let unreachable =
        |e: atl_core::pg::ConnectError| VizError::WarehouseUnreachable { url: e.url, source: e.source };
    let options = atl_core::pg::read_only_options("warehouse", db, "atl-viz eda").map_err(unreachable)?;
    atl_core::pg::connect_with("warehouse", db, &options).await.map_err(unreachable)
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
    let columns: Vec<ColumnRow> = sqlx::query_as(include_str!("../../../sql/eda/columns.sql"))
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
        .map(|c| Column { kind: ColumnKind::of(&c.data_type), name: c.name, data_type: c.data_type })
        .collect();
    let queries = Queries::new(&table, &columns)?;

    let bounds = request.months.map(|r| (r.first().first_day(), r.last().first_day()));
    let months: Vec<MonthRow> = sqlx::query_as(include_str!("../../../sql/eda/months.sql"))
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
        .or_else(|| MonthRange::new(YearMonth::of(first.month), YearMonth::of(last.month)))
        .unwrap_or(MonthRange::single(YearMonth::of(first.month)));

    let mut profiles = Vec::with_capacity(months.len());
    for month in &months {
        let sample_percent = if request.sample_rows > 0 && month.rows > request.sample_rows {
            (request.sample_rows as f64 / month.rows as f64 * 100.0).clamp(0.001, 100.0)
        } else {
            100.0
        };
        let mut profile =
            month_stats(&mut conn, &queries.stats, &columns, month.month, sample_percent).await?;
        if let Some(quantiles) = &queries.quantiles {
            month_quantiles(&mut conn, quantiles, &columns, month.month, &mut profile).await?;
        }
        profiles.push(profile);
    }
    let shared = shared_bins(&columns, &profiles);
    for profile in &mut profiles {
        let day = profile.month.first_day();
        let bins: HashMap<&str, Option<Bins>> = columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.kind.is_numeric())
            .map(|(i, c)| {
                let bins = match c.kind {
                    ColumnKind::Timestamp => {
                        let (lo, hi) = (epoch(profile.month.start()), epoch(profile.month.next().start()));
                        Some(Bins { lo, hi, count: profile.month.days() as usize })
                    }
                    _ => shared[i],
                };
                (c.name.as_str(), bins)
            })
            .collect();
        let mut distributions = vec![Distribution::Empty; columns.len()];
        if let Some(sql) = &queries.histograms {
            let spec = Histograms { sql, names: &queries.numeric, bins: &bins };
            histograms(&mut conn, &spec, &columns, day, profile.sample_percent, &mut distributions).await?;
        }
        if let Some(sql) = &queries.values {
            text_values(
                &mut conn,
                sql,
                &queries.texts,
                &columns,
                day,
                profile.sample_percent,
                &mut distributions,
            )
            .await?;
        }
        profile.distributions = distributions;
    }
    conn.close().await.map_err(query_error("close"))?;
    Ok(Eda {
        kind: request.kind,
        table: format!("raw.{table}"),
        period,
        columns,
        applicable: queries.applicable.clone(),
        months: profiles,
        sample_rows: request.sample_rows,
        query_time: started.elapsed(),
    })
}

fn epoch(t: chrono::NaiveDateTime) -> f64 {
    t.and_utc().timestamp() as f64
}

/// Figures by (subject, measure).
type Figures = HashMap<(String, String), Option<f64>>;

fn by_name(rows: Vec<Figure>) -> Figures {
    rows.into_iter().map(|f| ((f.subject, f.measure), f.value)).collect()
}

/// The figure `(subject, measure)`; missing from the rows is the query's fault, not the data's.
fn figure(
    figures: &Figures,
    subject: &str,
    measure: &str,
    query: &'static str,
) -> Result<Option<f64>, VizError> {
    figures.get(&(subject.to_owned(), measure.to_owned())).copied().ok_or_else(|| VizError::Warehouse {
        query,
        source: sqlx::Error::ColumnNotFound(format!("{subject} {measure}")),
    })
}

async fn month_stats(
    conn: &mut PgConnection,
    stats: &Named,
    columns: &[Column],
    day: NaiveDate,
    sample_percent: f64,
) -> Result<MonthProfile, VizError> {
    const QUERY: &str = "month_stats.sql";
    let rows: Vec<Figure> = sqlx::query_as(AssertSqlSafe(stats.sql.as_str()))
        .bind(day)
        .bind(&stats.subjects)
        .bind(&stats.measures)
        .fetch_all(&mut *conn)
        .await
        .map_err(query_error(QUERY))?;
    let figures = by_name(rows);
    // Counts are never NULL; a min or max is when every value is.
    let count = |subject: &str, measure: &str| -> Result<i64, VizError> {
        Ok(figure(&figures, subject, measure, QUERY)?.unwrap_or(0.0) as i64)
    };
    let mut stats = Vec::with_capacity(columns.len());
    for c in columns {
        stats.push(ColumnStats {
            non_null: count(&c.name, Stat::NonNull.measure())?,
            negative: count(&c.name, Stat::Negative.measure())?,
            min: figure(&figures, &c.name, Stat::Min.measure(), QUERY)?,
            max: figure(&figures, &c.name, Stat::Max.measure(), QUERY)?,
            quantiles: None,
        });
    }
    Ok(MonthProfile {
        month: YearMonth::of(day),
        rows: count(MONTH, ROWS)?,
        sample_percent,
        columns: stats,
        distributions: Vec::new(),
        anomalies: ANOMALIES.iter().map(|a| count(a.key, ANOMALOUS_ROWS)).collect::<Result<_, _>>()?,
        anomalous_rows: count(MONTH, ANOMALOUS_ROWS)?,
    })
}

async fn month_quantiles(
    conn: &mut PgConnection,
    quantiles: &Named,
    columns: &[Column],
    day: NaiveDate,
    profile: &mut MonthProfile,
) -> Result<(), VizError> {
    const QUERY: &str = "month_quantiles.sql";
    let rows: Vec<Figure> = sqlx::query_as(AssertSqlSafe(quantiles.sql.as_str()))
        .bind(day)
        .bind(profile.sample_percent as f32)
        .bind(SAMPLE_SEED)
        .bind(quantile_fractions())
        .bind(&quantiles.subjects)
        .bind(&quantiles.measures)
        .fetch_all(&mut *conn)
        .await
        .map_err(query_error(QUERY))?;
    let figures = by_name(rows);
    for (c, stats) in columns.iter().zip(&mut profile.columns).filter(|(c, _)| c.kind.is_numeric()) {
        let mut values = [0.0; QUANTILES.len()];
        let mut all = true;
        for (value, q) in values.iter_mut().zip(&QUANTILES) {
            match figure(&figures, &c.name, q.name, QUERY)? {
                Some(v) => *value = v,
                None => all = false,
            }
        }
        stats.quantiles = all.then_some(values);
    }
    Ok(())
}

/// The histogram query of a month, and each numeric column's bins by name (`None`: the
/// column has no value in any month).
struct Histograms<'a> {
    sql: &'a str,
    /// The numeric and timestamp columns, in the order of the query's `{values}`.
    names: &'a [String],
    bins: &'a HashMap<&'a str, Option<Bins>>,
}

async fn histograms(
    conn: &mut PgConnection,
    spec: &Histograms<'_>,
    columns: &[Column],
    day: NaiveDate,
    sample_percent: f64,
    out: &mut [Distribution],
) -> Result<(), VizError> {
    let bins = |name: &String| spec.bins.get(name.as_str()).copied().flatten();
    // Columns without bins (all null everywhere) get a dummy range: they have no value.
    let lo: Vec<f64> = spec.names.iter().map(|n| bins(n).map_or(0.0, |b| b.lo)).collect();
    let hi: Vec<f64> = spec.names.iter().map(|n| bins(n).map_or(1.0, |b| b.hi)).collect();
    let count: Vec<i32> = spec.names.iter().map(|n| bins(n).map_or(1, |b| b.count as i32)).collect();
    let rows: Vec<BucketRow> = sqlx::query_as(AssertSqlSafe(spec.sql))
        .bind(day)
        .bind(sample_percent as f32)
        .bind(SAMPLE_SEED)
        .bind(spec.names)
        .bind(&lo)
        .bind(&hi)
        .bind(&count)
        .fetch_all(&mut *conn)
        .await
        .map_err(query_error("month_histograms.sql"))?;
    for (column, slot) in columns.iter().zip(out.iter_mut()).filter(|(c, _)| c.kind.is_numeric()) {
        let Some(Bins { lo, hi, count: n }) = bins(&column.name) else { continue };
        let mut h = Histogram { lo, hi, counts: vec![0; n], below: 0, above: 0 };
        let mut any = false;
        for r in rows.iter().filter(|r| r.subject == column.name) {
            any = true;
            match r.bucket {
                0 => h.below += r.rows,
                b if b as usize > n => h.above += r.rows,
                b => h.counts[b as usize - 1] += r.rows,
            }
        }
        if any {
            *slot = Distribution::Bins(h);
        }
    }
    Ok(())
}

async fn text_values(
    conn: &mut PgConnection,
    sql: &str,
    names: &[String],
    columns: &[Column],
    day: NaiveDate,
    sample_percent: f64,
    out: &mut [Distribution],
) -> Result<(), VizError> {
    let rows: Vec<ValueRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(day)
        .bind(sample_percent as f32)
        .bind(SAMPLE_SEED)
        .bind(names)
        .fetch_all(&mut *conn)
        .await
        .map_err(query_error("month_values.sql"))?;
    for (column, slot) in columns.iter().zip(out.iter_mut()).filter(|(c, _)| c.kind == ColumnKind::Text) {
        let values: Vec<ValueCount> = rows
            .iter()
            .filter(|r| r.subject == column.name)
            .map(|r| ValueCount { value: r.value.clone(), rows: r.rows })
            .collect();
        let values = top_values(values);
        if !values.is_empty() {
            *slot = Distribution::Values(values);
        }
    }
    Ok(())
}
