//! The report's SQL, built once per table from `sql/eda/*.sql`, the table's columns and the
//! model's declarations: the anomaly tests from [`ANOMALIES`]' rules, the quantiles from
//! [`QUANTILES`] (bound as a parameter), the figures of each column from [`Stat`]. Every
//! figure a query returns is named by a `(subject, measure)` pair built in the same loop as
//! its SQL expression, so a row is read by its names, never by its position.

use atl_core::raw::quote_ident;
use atl_core::schema::money_columns;

use crate::error::VizError;
use crate::model::eda::{ANOMALIES, Column, ColumnKind, QUANTILES, Rule};

/// The subject of the figures of the month as a whole (a column's figures have its name).
pub const MONTH: &str = "";
/// The measure of the rows of the month (subject [`MONTH`]).
pub const ROWS: &str = "rows";
/// The measure of an anomaly's rows (subject: its key), and of the rows with any anomaly
/// (subject [`MONTH`]).
pub const ANOMALOUS_ROWS: &str = "anomalous_rows";

/// A figure of each column in month_stats.sql.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    NonNull,
    Negative,
    Min,
    Max,
}

impl Stat {
    pub const ALL: [Stat; 4] = [Stat::NonNull, Stat::Negative, Stat::Min, Stat::Max];

    /// The measure's name in the query's rows.
    pub fn measure(self) -> &'static str {
        match self {
            Stat::NonNull => "non_null",
            Stat::Negative => "negative",
            Stat::Min => "min",
            Stat::Max => "max",
        }
    }

    /// The figure of `column` (quoted) as float8: timestamps in seconds since the epoch, no
    /// negatives counted for them, no min or max of text.
    fn sql(self, kind: ColumnKind, column: &str) -> String {
        let numeric = matches!(kind, ColumnKind::Integer | ColumnKind::Float);
        match (self, kind) {
            (Stat::NonNull, _) => format!("count({column})::float8"),
            (Stat::Negative, _) if numeric => format!("(count(*) FILTER (WHERE {column} < 0))::float8"),
            (Stat::Negative, _) => "0::float8".into(),
            (Stat::Min | Stat::Max, ColumnKind::Text) => "NULL::float8".into(),
            (Stat::Min, ColumnKind::Timestamp) => format!("extract(epoch FROM min({column}))::float8"),
            (Stat::Max, ColumnKind::Timestamp) => format!("extract(epoch FROM max({column}))::float8"),
            (Stat::Min, _) => format!("min({column})::float8"),
            (Stat::Max, _) => format!("max({column})::float8"),
        }
    }
}

/// `template` without its comment lines, each `{key}` replaced by its value.
fn fill(template: &str, pairs: &[(&str, &str)]) -> String {
    let code: Vec<&str> = template.lines().filter(|l| !l.trim_start().starts_with("--")).collect();
    pairs.iter().fold(code.join("\n"), |sql, (key, value)| sql.replace(&format!("{{{key}}}"), value))
}

/// A query and the names of the figures it returns, in the order of its `ARRAY[...]`.
#[derive(Debug, Clone, Default)]
pub struct Named {
    pub sql: String,
    pub subjects: Vec<String>,
    pub measures: Vec<String>,
}

impl Named {
    fn push(&mut self, subject: &str, measure: &str) {
        self.subjects.push(subject.to_owned());
        self.measures.push(measure.to_owned());
    }
}

/// The SQL of one report.
#[derive(Debug)]
pub struct Queries {
    pub stats: Named,
    /// Per anomaly of [`ANOMALIES`], whether the table has what it needs (fhv has no money
    /// column, the for-hire kinds no vendor, rate code or payment type).
    pub applicable: Vec<bool>,
    pub quantiles: Option<Named>,
    /// The histograms of the numeric and timestamp columns, by name in `numeric` order.
    pub histograms: Option<String>,
    pub numeric: Vec<String>,
    /// The values of the text columns, by name in `texts` order.
    pub values: Option<String>,
    pub texts: Vec<String>,
}

impl Queries {
    pub fn new(table: &str, columns: &[Column]) -> Result<Queries, VizError> {
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
        let column = |name: &str| has(name).then(|| format!("m.{}", quote_ident(name)));
        let list = |codes: &[i64]| codes.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        // None: the table lacks the column, the flag is NULL (never counted).
        let tests: Vec<Option<String>> = ANOMALIES
            .iter()
            .map(|a| match a.rule {
                Rule::NegativeMoney => {
                    (!amounts.is_empty()).then(|| format!("least({}) < 0", amounts.join(", ")))
                }
                Rule::Zero(candidates) => {
                    candidates.iter().find_map(|c| column(c)).map(|c| format!("{c} = 0"))
                }
                Rule::PickupOutOfMonth => {
                    Some(format!("m.{pickup} < $1::date OR m.{pickup} >= $1::date + interval '1 month'"))
                }
                Rule::DropoffBeforePickup => Some(format!("m.{dropoff} < m.{pickup}")),
                Rule::NotIn(name, codes) => column(name).map(|c| format!("{c} NOT IN ({})", list(codes))),
                Rule::Outside(name, lo, hi) => column(name).map(|c| format!("{c} NOT BETWEEN {lo} AND {hi}")),
            })
            .collect();
        let applicable: Vec<bool> = tests.iter().map(Option::is_some).collect();
        let flags: Vec<String> = ANOMALIES
            .iter()
            .zip(&tests)
            .map(|(a, test)| {
                format!("{} AS {}", test.as_deref().unwrap_or("NULL::boolean"), quote_ident(a.key))
            })
            .collect();

        let mut stats = Named::default();
        let mut figures = vec!["count(*)::float8".to_owned()];
        stats.push(MONTH, ROWS);
        for c in columns {
            for stat in Stat::ALL {
                figures.push(stat.sql(c.kind, &quote_ident(&c.name)));
                stats.push(&c.name, stat.measure());
            }
        }
        for a in &ANOMALIES {
            figures.push(format!("(count(*) FILTER (WHERE {}))::float8", quote_ident(a.key)));
            stats.push(a.key, ANOMALOUS_ROWS);
        }
        let any: Vec<String> = ANOMALIES.iter().map(|a| quote_ident(a.key)).collect();
        figures.push(format!("(count(*) FILTER (WHERE {}))::float8", any.join(" OR ")));
        stats.push(MONTH, ANOMALOUS_ROWS);
        let quoted_table = quote_ident(table);
        stats.sql = fill(
            include_str!("../../../sql/eda/month_stats.sql"),
            &[
                ("table", &quoted_table),
                ("figures", &figures.join(",\n             ")),
                ("flags", &flags.join(",\n               ")),
            ],
        );

        let numeric: Vec<&Column> = columns.iter().filter(|c| c.kind.is_numeric()).collect();
        let values: Vec<String> = numeric
            .iter()
            .map(|c| {
                let fragment = match c.kind {
                    ColumnKind::Timestamp => include_str!("../../../sql/eda/value_timestamp.sql"),
                    _ => include_str!("../../../sql/eda/value_number.sql"),
                };
                fill(fragment.trim(), &[("column", &format!("m.{}", quote_ident(&c.name)))])
            })
            .collect();
        let (quantiles, histograms) = if values.is_empty() {
            (None, None)
        } else {
            let mut quantiles = Named::default();
            for c in &numeric {
                for q in &QUANTILES {
                    quantiles.push(&c.name, q.name);
                }
            }
            let each: Vec<String> = values
                .iter()
                .map(|v| fill(include_str!("../../../sql/eda/quantile.sql").trim(), &[("value", v)]))
                .collect();
            quantiles.sql = fill(
                include_str!("../../../sql/eda/month_quantiles.sql"),
                &[("table", &quoted_table), ("quantiles", &each.join("\n         || "))],
            );
            let histograms = fill(
                include_str!("../../../sql/eda/month_histograms.sql"),
                &[("table", &quoted_table), ("values", &values.join(", "))],
            );
            (Some(quantiles), Some(histograms))
        };
        let texts: Vec<&Column> = columns.iter().filter(|c| c.kind == ColumnKind::Text).collect();
        let text_values: Vec<String> =
            texts.iter().map(|c| format!("m.{}::text", quote_ident(&c.name))).collect();
        let values = (!texts.is_empty()).then(|| {
            fill(
                include_str!("../../../sql/eda/month_values.sql"),
                &[("table", &quoted_table), ("columns", &text_values.join(", "))],
            )
        });
        Ok(Queries {
            stats,
            applicable,
            quantiles,
            histograms,
            numeric: numeric.iter().map(|c| c.name.clone()).collect(),
            values,
            texts: texts.iter().map(|c| c.name.clone()).collect(),
        })
    }
}

/// The quantiles' fractions, bound as month_quantiles.sql's `$4`.
pub fn quantile_fractions() -> Vec<f64> {
    QUANTILES.iter().map(|q| q.fraction).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let quantiles = q.quantiles.as_ref().unwrap();
        for sql in [&q.stats.sql, &quantiles.sql, q.histograms.as_ref().unwrap(), q.values.as_ref().unwrap()]
        {
            assert!(!sql.contains('{') && !sql.contains('}'), "{sql}");
        }
        assert!(q.stats.sql.contains("least(m.\"fare_amount\", m.\"total_amount\") < 0"), "{}", q.stats.sql);
        assert!(q.stats.sql.contains("m.\"tpep_pickup_datetime\" < $1::date"));
        assert!(
            q.stats.sql.contains("m.\"ratecodeid\" NOT IN (1, 2, 3, 4, 5, 6, 99) AS \"unknown_ratecode\"")
        );
        assert!(q.applicable.iter().all(|a| *a));
        // One name per figure: the month's rows, 4 per column, one per anomaly, any anomaly.
        assert_eq!(q.stats.subjects.len(), 1 + 4 * columns.len() + ANOMALIES.len() + 1);
        assert_eq!(quantiles.subjects.len(), QUANTILES.len() * q.numeric.len());
        assert_eq!(q.texts, ["store_and_fwd_flag"]);
        // Without vendorid, the vendor anomaly is not applicable; without a pickup time,
        // there is no report.
        let no_vendor = Queries::new("yellow_tripdata", &columns[1..]).unwrap();
        let vendor = ANOMALIES.iter().position(|a| a.key == "unknown_vendor").unwrap();
        assert!(!no_vendor.applicable[vendor] && !no_vendor.stats.sql.contains("\"vendorid\" NOT IN"));
        let no_pickup: Vec<Column> = columns.iter().filter(|c| !c.name.contains("pickup")).cloned().collect();
        assert!(Queries::new("yellow_tripdata", &no_pickup).is_err());
    }
}
