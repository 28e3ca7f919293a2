//! The exploratory report as one self-contained HTML page, in the dashboard's style: inline
//! CSS and SVG, no script, no network request.
//!
//! Every figure carries its exact value for tests and scrapers: a statistic cell
//! `data-column="fare_amount" data-month="2023-01" data-stat="null_rate" data-value="0.0123"`
//! (stats `null_rate` (with `data-nulls`), `negative`, `min`, `p1` … `p99`, `max`; timestamps
//! in seconds since the epoch), an anomaly cell `data-month="2023-01"
//! data-anomaly="zero_distance" data-value="12"`, a histogram
//! `<figure data-chart="hist-fare_amount-2023-01" data-marks="N">`.

use maud::{Markup, PreEscaped, html};

use crate::chart::EdaChart;
use crate::html::{PageMode, document};
use crate::model::eda::{ANOMALIES, Column, ColumnKind, Eda, MonthProfile, QUANTILES, histogram_name};
use crate::numbers::{decimal, rate, thousands};

const EDA_CSS: &str = r#"
.panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; margin-bottom: 16px; overflow-x: auto; }
.panel h3 { margin: 0 0 8px; font-size: 16px; }
.meta { font-weight: 400; color: var(--muted); font-size: 13px; margin-left: 8px; }
.note { color: var(--muted); font-size: 13px; margin: 4px 0 12px; max-width: 980px; }
.two { display: grid; grid-template-columns: repeat(auto-fit, minmax(620px, 1fr)); gap: 16px; align-items: start; }
table.stats { border-collapse: collapse; width: 100%; font-size: 13px; font-variant-numeric: tabular-nums; }
table.stats th, table.stats td { padding: 4px 7px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
table.stats th:first-child, table.stats td:first-child { text-align: left; }
table.stats thead th { color: var(--muted); font-weight: 500; border-bottom: 2px solid var(--line); }
table.stats td.dtype { color: var(--muted); text-align: left; }
table.stats td.none { color: #b5bcc8; }
table.stats td.warn { background: #fff4dc; }
table.stats td.bad { background: #fdeceb; color: var(--down); font-weight: 600; }
table.stats tr.total td { font-weight: 600; border-top: 2px solid var(--line); }
table.stats a { color: inherit; text-decoration: none; }
dl.defs { display: grid; grid-template-columns: max-content 1fr; gap: 3px 14px; font-size: 13px; margin: 12px 0 0; }
dl.defs dt { font-weight: 600; } dl.defs dd { margin: 0; color: var(--muted); }
section.column { margin-bottom: 8px; }
section.column h3 { font-size: 17px; margin: 22px 0 8px; }
.dtype-label { font-weight: 400; color: var(--muted); font-size: 13px; margin-left: 6px; }
.hists { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 12px; }
figure.hist { padding: 8px 10px; }
figure.hist h4 { margin: 0 0 2px; font-size: 14px; }
figure figcaption { font-size: 12px; color: var(--muted); margin-top: 4px; min-height: 1em; }
nav.toc { font-size: 13px; line-height: 1.8; }
nav.toc a { color: var(--muted); margin-right: 10px; }
"#;

/// A statistic as the table shows it.
fn show(kind: ColumnKind, v: f64) -> String {
    match kind {
        ColumnKind::Timestamp => chrono::DateTime::from_timestamp(v.floor() as i64, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| decimal(v, 0)),
        _ => decimal(v, 2),
    }
}

/// The type as the table shows it: `double precision` → `double`.
fn short_type(data_type: &str) -> &str {
    match data_type {
        "double precision" => "double",
        "timestamp without time zone" => "timestamp",
        "timestamp with time zone" => "timestamptz",
        "character varying" => "varchar",
        t => t,
    }
}

/// A statistic's cell, or a dash without one.
fn stat_cell(column: &Column, month: &MonthProfile, stat: &str, value: Option<f64>) -> Markup {
    html! {
        @match value {
            Some(v) => td data-column=(column.name) data-month=(month.month.to_string()) data-stat=(stat) data-value=(v) {
                (show(column.kind, v))
            },
            None => td class="none" { "—" },
        }
    }
}

/// The table of one month: a row per column.
fn month_table(eda: &Eda, month: &MonthProfile) -> Markup {
    let sample = if month.is_sampled() {
        format!(
            " · quantiles on a {} % page sample (about {} rows)",
            decimal(month.sample_percent, 2),
            thousands((month.rows as f64 * month.sample_percent / 100.0).round() as i64)
        )
    } else {
        " · every row".to_owned()
    };
    let m = month.month.to_string();
    html! {
        div class="panel month" id={ "month-" (m) } data-month=(m) data-rows=(month.rows) data-sample-percent=(month.sample_percent) {
            h3 { (m) span class="meta" { (thousands(month.rows)) " rows" (sample) } }
            table class="stats" {
                thead {
                    tr {
                        th { "Column" } th { "Null rate" } th { "Nulls" } th { "< 0" } th { "Min" }
                        @for q in &QUANTILES { th { (q.name) } }
                        th { "Max" }
                    }
                }
                tbody {
                    @for (column, stats) in eda.columns.iter().zip(&month.columns) {
                        @let nulls = month.rows - stats.non_null;
                        @let null_rate = if month.rows > 0 { nulls as f64 / month.rows as f64 } else { 0.0 };
                        @let class = if nulls == 0 { "" } else if null_rate >= 0.5 { "bad" } else { "warn" };
                        tr {
                            td { a href={ "#column-" (column.name) } title=(short_type(&column.data_type)) { (column.name) } }
                            td class=(class) data-column=(column.name) data-month=(m) data-stat="null_rate"
                                data-value=(null_rate) data-nulls=(nulls) { (rate(null_rate)) }
                            td { (thousands(nulls)) }
                            @if column.kind.is_numeric() && column.kind != ColumnKind::Timestamp {
                                td class=(if stats.negative > 0 { "warn" } else { "" }) data-column=(column.name)
                                    data-month=(m) data-stat="negative" data-value=(stats.negative) {
                                    (thousands(stats.negative))
                                }
                            } @else {
                                td class="none" { "—" }
                            }
                            (stat_cell(column, month, "min", stats.min))
                            @for (k, q) in QUANTILES.iter().enumerate() {
                                (stat_cell(column, month, q.name, stats.quantiles.map(|v| v[k])))
                            }
                            (stat_cell(column, month, "max", stats.max))
                        }
                    }
                }
            }
        }
    }
}

/// A line of the anomaly table: the rows of each month, the total and its share.
fn anomaly_line(eda: &Eda, key: &str, label: &str, values: &[i64], class: &str, rows: i64) -> Markup {
    let total: i64 = values.iter().sum();
    html! {
        tr class=(class) {
            td { (label) }
            @for (m, v) in eda.months.iter().zip(values) {
                td class=(if *v > 0 { "bad" } else { "" }) data-month=(m.month.to_string()) data-anomaly=(key) data-value=(v)
                    title={ (rate(*v as f64 / m.rows.max(1) as f64)) " of the month's rows" } {
                    (thousands(*v))
                }
            }
            td data-anomaly-total=(key) data-value=(total) { (thousands(total)) }
            td { (rate(total as f64 / rows.max(1) as f64)) }
        }
    }
}

/// Anomalies: a row per kind, a column per month, then the total.
fn anomaly_table(eda: &Eda) -> Markup {
    let rows: i64 = eda.months.iter().map(|m| m.rows).sum();
    let shown: Vec<(usize, &crate::model::eda::Anomaly)> =
        ANOMALIES.iter().enumerate().filter(|(k, _)| eda.applicable[*k]).collect();
    let any: Vec<i64> = eda.months.iter().map(|m| m.anomalous_rows).collect();
    html! {
        div class="panel" {
            table class="stats" id="anomaly-table" {
                thead {
                    tr { th { "Rows" } @for m in &eda.months { th { (m.month.to_string()) } } th { "Total" } th { "Share" } }
                }
                tbody {
                    tr {
                        td { "All rows" }
                        @for m in &eda.months { td data-month=(m.month.to_string()) data-rows=(m.rows) { (thousands(m.rows)) } }
                        td { (thousands(rows)) }
                        td { "100 %" }
                    }
                    @for (k, a) in &shown {
                        @let values: Vec<i64> = eda.months.iter().map(|m| m.anomalies[*k]).collect();
                        (anomaly_line(eda, a.key, a.label, &values, "", rows))
                    }
                    (anomaly_line(eda, "any", "Any anomaly", &any, "total", rows))
                }
            }
            dl class="defs" { @for (_, a) in &shown { dt { (a.label) } dd { (a.definition) } } }
        }
    }
}

/// A chart in its figure, with its note below it; `h3` or `h4` heads it.
fn figure(chart: &EdaChart, class: &str, h3: bool) -> Markup {
    html! {
        figure class={ "chart " (class) } id=(chart.name) data-chart=(chart.name) data-marks=(chart.marks) {
            @if h3 { h3 { (chart.title) } } @else { h4 { (chart.title) } }
            (PreEscaped(&chart.svg))
            figcaption { (chart.note) }
        }
    }
}

fn tile(key: &str, label: &str, value: &str, display: &str, sub: &str) -> Markup {
    html! {
        div class="kpi" {
            h2 { (label) }
            div class="value" data-eda=(key) data-value=(value) { (display) }
            div class="change" { (sub) }
        }
    }
}

/// The report page.
pub fn eda_page(eda: &Eda, charts: &[EdaChart], generated_at: &str) -> String {
    let title = format!("Raw {} trips — exploratory report, {}", eda.kind, eda.period);
    let rows: i64 = eda.months.iter().map(|m| m.rows).sum();
    let anomalous: i64 = eda.months.iter().map(|m| m.anomalous_rows).sum();
    let missing: Vec<String> = eda
        .period
        .iter()
        .filter(|m| !eda.months.iter().any(|p| p.month == *m))
        .map(|m| m.to_string())
        .collect();
    let months_sub = if missing.is_empty() {
        format!("{} (none missing)", eda.period)
    } else {
        format!("not in the warehouse: {}", missing.join(", "))
    };
    let months = eda.months.len().to_string();
    let columns = eda.columns.len().to_string();
    let sampling = if eda.sample_rows > 0 {
        format!(
            "Row counts, null rates, negatives, min, max and anomalies are exact, over every row. Quantiles \
             (percentile_cont) and histograms are exact for months of up to {} rows; a larger month is read \
             through a page sample of about {} rows (TABLESAMPLE SYSTEM, repeatable), said in its heading \
             and under its charts.",
            thousands(eda.sample_rows),
            thousands(eda.sample_rows)
        )
    } else {
        "Every figure is exact, over every row (no sampling).".to_owned()
    };
    let body = html! {
        body data-kind=(eda.kind.to_string()) data-period=(eda.period.to_string()) data-table=(eda.table) {
            header {
                h1 { (title) }
                p {
                    "Every column of the warehouse table " (eda.table) ", month by month (" (months) " months, "
                    (thousands(rows)) " rows), generated " (generated_at) " (queries "
                    (decimal(eda.query_time.as_secs_f64(), 2)) " s)."
                }
            }
            main {
                section class="kpis" id="summary" {
                    (tile("rows", "Rows", &rows.to_string(), &thousands(rows), &format!("in {}", eda.table)))
                    (tile("months", "Months", &months, &months, &months_sub))
                    (tile("columns", "Columns profiled", &columns, &columns, "lineage columns left out"))
                    (tile(
                        "anomalous_rows",
                        "Rows with an anomaly",
                        &anomalous.to_string(),
                        &thousands(anomalous),
                        &format!("{} of the rows", rate(anomalous as f64 / rows.max(1) as f64)),
                    ))
                }
                section id="anomalies" {
                    h2 { "Anomalies per month" }
                    div class="two" {
                        (anomaly_table(eda))
                        @if let Some(chart) = charts.iter().find(|c| c.name == "anomalies") { (figure(chart, "", true)) }
                    }
                }
                section id="months" {
                    h2 { "Columns per month" }
                    p class="note" {
                        (sampling) " Timestamps are shown to the minute. Null rates above 50 % are red, other non-zero ones amber."
                    }
                    @for month in &eda.months { (month_table(eda, month)) }
                }
                section id="columns" {
                    h2 { "Distributions" }
                    p class="note" {
                        "One histogram per column and month. The bins of a numeric column are the same for every \
                         month, from the lowest p1 to the highest p99 (integer codes: one bar per value), so that a \
                         few absurd values do not flatten them; what falls outside is counted under the chart. \
                         Timestamps: one bar per day of the file's month."
                    }
                    nav class="toc" { @for c in &eda.columns { a href={ "#column-" (c.name) } { (c.name) } } }
                    @for column in &eda.columns {
                        section class="column" id={ "column-" (column.name) } data-column-section=(column.name) {
                            h3 { (column.name) span class="dtype-label" { (column.data_type) } }
                            div class="hists" {
                                @for month in &eda.months {
                                    @let name = histogram_name(&column.name, month.month);
                                    @if let Some(chart) = charts.iter().find(|c| c.name == name) {
                                        (figure(chart, "hist", false))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    document(&title, PageMode::File, EDA_CSS, body)
}
