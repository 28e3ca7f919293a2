//! The exploratory report as one self-contained HTML page, in the dashboard's style: inline
//! CSS and SVG, no script, no network request.
//!
//! Every figure carries its exact value for tests and scrapers: a statistic cell
//! `data-column="fare_amount" data-month="2023-01" data-stat="null_rate" data-value="0.0123"`
//! (stats `null_rate` (with `data-nulls`), `negative`, `min`, `p1` … `p99`, `max`; timestamps
//! in seconds since the epoch), an anomaly cell `data-month="2023-01"
//! data-anomaly="zero_distance" data-value="12"`, a histogram
//! `<figure data-chart="hist-fare_amount-2023-01" data-marks="N">`.

use std::fmt::Write;

use crate::eda::charts::{EdaChart, histogram_name};
use crate::eda::{ANOMALIES, Column, ColumnKind, Eda, MonthProfile, QUANTILE_NAMES};
use crate::numbers::{decimal, rate, thousands};
use crate::page::{PageMode, escape, head_with_css};

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

fn stat_cell(out: &mut String, column: &Column, month: &MonthProfile, stat: &str, value: Option<f64>) {
    match value {
        Some(v) => {
            let _ = write!(
                out,
                "<td data-column=\"{c}\" data-month=\"{m}\" data-stat=\"{stat}\" data-value=\"{v}\">{}</td>",
                escape(&show(column.kind, v)),
                c = escape(&column.name),
                m = month.month,
            );
        }
        None => out.push_str("<td class=\"none\">—</td>"),
    }
}

/// The table of one month: a row per column.
fn month_table(out: &mut String, eda: &Eda, month: &MonthProfile) {
    let sample = if month.is_sampled() {
        format!(
            " · quantiles on a {} % page sample (about {} rows)",
            decimal(month.sample_percent, 2),
            thousands((month.rows as f64 * month.sample_percent / 100.0).round() as i64)
        )
    } else {
        " · every row".to_owned()
    };
    let _ = write!(
        out,
        "<div class=\"panel month\" id=\"month-{m}\" data-month=\"{m}\" data-rows=\"{rows}\" data-sample-percent=\"{pct}\">\
         <h3>{m}<span class=\"meta\">{rows_display} rows{sample}</span></h3>\n<table class=\"stats\"><thead><tr>\
         <th>Column</th><th>Null rate</th><th>Nulls</th><th>&lt; 0</th><th>Min</th>",
        m = month.month,
        rows = month.rows,
        pct = month.sample_percent,
        rows_display = thousands(month.rows),
    );
    for q in QUANTILE_NAMES {
        let _ = write!(out, "<th>{q}</th>");
    }
    out.push_str("<th>Max</th></tr></thead>\n<tbody>\n");
    for (column, stats) in eda.columns.iter().zip(&month.columns) {
        let nulls = month.rows - stats.non_null;
        let null_rate = if month.rows > 0 { nulls as f64 / month.rows as f64 } else { 0.0 };
        let _ = write!(
            out,
            "<tr><td><a href=\"#column-{c}\" title=\"{t}\">{c}</a></td>\
             <td class=\"{class}\" data-column=\"{c}\" data-month=\"{m}\" data-stat=\"null_rate\" data-value=\"{null_rate}\" data-nulls=\"{nulls}\">{rate}</td>\
             <td>{nulls_display}</td>",
            c = escape(&column.name),
            t = escape(short_type(&column.data_type)),
            m = month.month,
            class = if nulls == 0 {
                ""
            } else if null_rate >= 0.5 {
                "bad"
            } else {
                "warn"
            },
            rate = rate(null_rate),
            nulls_display = thousands(nulls),
        );
        if column.kind.is_numeric() && column.kind != ColumnKind::Timestamp {
            let _ = write!(
                out,
                "<td class=\"{}\" data-column=\"{c}\" data-month=\"{m}\" data-stat=\"negative\" data-value=\"{n}\">{}</td>",
                if stats.negative > 0 { "warn" } else { "" },
                thousands(stats.negative),
                c = escape(&column.name),
                m = month.month,
                n = stats.negative,
            );
        } else {
            out.push_str("<td class=\"none\">—</td>");
        }
        stat_cell(out, column, month, "min", stats.min);
        for (k, q) in QUANTILE_NAMES.iter().enumerate() {
            stat_cell(out, column, month, q, stats.quantiles.map(|v| v[k]));
        }
        stat_cell(out, column, month, "max", stats.max);
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
}

/// Anomalies: a row per kind, a column per month, then the total.
fn anomaly_table(out: &mut String, eda: &Eda) {
    out.push_str("<div class=\"panel\"><table class=\"stats\" id=\"anomaly-table\"><thead><tr><th>Rows</th>");
    for m in &eda.months {
        let _ = write!(out, "<th>{}</th>", m.month);
    }
    out.push_str("<th>Total</th><th>Share</th></tr></thead>\n<tbody>\n<tr><td>All rows</td>");
    let rows: i64 = eda.months.iter().map(|m| m.rows).sum();
    for m in &eda.months {
        let _ =
            write!(out, "<td data-month=\"{}\" data-rows=\"{}\">{}</td>", m.month, m.rows, thousands(m.rows));
    }
    let _ = writeln!(out, "<td>{}</td><td>100 %</td></tr>", thousands(rows));
    let line = |out: &mut String, key: &str, label: &str, values: Vec<i64>, class: &str| {
        let _ = write!(out, "<tr class=\"{class}\"><td>{}</td>", escape(label));
        for (m, v) in eda.months.iter().zip(&values) {
            let _ = write!(
                out,
                "<td class=\"{}\" data-month=\"{}\" data-anomaly=\"{key}\" data-value=\"{v}\" title=\"{} of the month's rows\">{}</td>",
                if *v > 0 { "bad" } else { "" },
                m.month,
                rate(*v as f64 / m.rows.max(1) as f64),
                thousands(*v),
            );
        }
        let total: i64 = values.iter().sum();
        let _ = writeln!(
            out,
            "<td data-anomaly-total=\"{key}\" data-value=\"{total}\">{}</td><td>{}</td></tr>",
            thousands(total),
            rate(total as f64 / rows.max(1) as f64)
        );
    };
    for (k, a) in ANOMALIES.iter().enumerate().filter(|(k, _)| eda.applicable[*k]) {
        line(out, a.key, a.label, eda.months.iter().map(|m| m.anomalies[k]).collect(), "");
    }
    line(out, "any", "Any anomaly", eda.months.iter().map(|m| m.anomalous_rows).collect(), "total");
    out.push_str("</tbody></table>\n<dl class=\"defs\">");
    for (_, a) in ANOMALIES.iter().enumerate().filter(|(k, _)| eda.applicable[*k]) {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", escape(a.label), escape(a.definition));
    }
    out.push_str("</dl></div>\n");
}

fn figure(out: &mut String, chart: &EdaChart, class: &str, heading: &str) {
    let _ = write!(
        out,
        "<figure class=\"chart {class}\" id=\"{name}\" data-chart=\"{name}\" data-marks=\"{marks}\">\n<{heading}>{title}</{heading}>\n",
        name = escape(&chart.name),
        marks = chart.marks,
        title = escape(&chart.title),
    );
    out.push_str(&chart.svg);
    let _ = write!(out, "\n<figcaption>{}</figcaption>\n</figure>\n", escape(&chart.note));
}

fn tile(out: &mut String, key: &str, label: &str, value: &str, display: &str, sub: &str) {
    let _ = writeln!(
        out,
        "<div class=\"kpi\"><h2>{}</h2><div class=\"value\" data-eda=\"{key}\" data-value=\"{value}\">{}</div><div class=\"change\">{}</div></div>",
        escape(label),
        escape(display),
        escape(sub)
    );
}

/// The report page.
pub fn eda_page(eda: &Eda, charts: &[EdaChart], generated_at: &str) -> String {
    let svg_bytes: usize = charts.iter().map(|c| c.svg.len()).sum();
    let mut out = String::with_capacity(svg_bytes + 64 * 1024);
    let title = format!("Raw {} trips — exploratory report, {}", eda.kind, eda.period);
    head_with_css(&mut out, &title, PageMode::File, EDA_CSS);
    let rows: i64 = eda.months.iter().map(|m| m.rows).sum();
    let anomalous: i64 = eda.months.iter().map(|m| m.anomalous_rows).sum();
    let _ = write!(
        out,
        "<body data-kind=\"{kind}\" data-period=\"{period}\" data-table=\"{table}\">\n<header><h1>{title}</h1>\
         <p>Every column of the warehouse table {table}, month by month ({months} months, {rows} rows), generated {generated} \
         (queries {secs} s).</p></header>\n<main>\n",
        kind = eda.kind,
        period = eda.period,
        table = escape(&eda.table),
        title = escape(&title),
        months = eda.months.len(),
        rows = thousands(rows),
        generated = escape(generated_at),
        secs = decimal(eda.query_time.as_secs_f64(), 2),
    );

    out.push_str("<section class=\"kpis\" id=\"summary\">\n");
    tile(&mut out, "rows", "Rows", &rows.to_string(), &thousands(rows), &format!("in {}", eda.table));
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
    tile(
        &mut out,
        "months",
        "Months",
        &eda.months.len().to_string(),
        &eda.months.len().to_string(),
        &months_sub,
    );
    tile(
        &mut out,
        "columns",
        "Columns profiled",
        &eda.columns.len().to_string(),
        &eda.columns.len().to_string(),
        "lineage columns left out",
    );
    tile(
        &mut out,
        "anomalous_rows",
        "Rows with an anomaly",
        &anomalous.to_string(),
        &thousands(anomalous),
        &format!("{} of the rows", rate(anomalous as f64 / rows.max(1) as f64)),
    );
    out.push_str("</section>\n");

    out.push_str("<section id=\"anomalies\">\n<h2>Anomalies per month</h2>\n<div class=\"two\">\n");
    anomaly_table(&mut out, eda);
    if let Some(chart) = charts.iter().find(|c| c.name == "anomalies") {
        figure(&mut out, chart, "", "h3");
    }
    out.push_str("</div>\n</section>\n");

    out.push_str("<section id=\"months\">\n<h2>Columns per month</h2>\n<p class=\"note\">");
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
    let _ = writeln!(
        out,
        "{} Timestamps are shown to the minute. Null rates above 50 % are red, other non-zero ones amber.</p>",
        escape(&sampling)
    );
    for month in &eda.months {
        month_table(&mut out, eda, month);
    }
    out.push_str("</section>\n");

    out.push_str(
        "<section id=\"columns\">\n<h2>Distributions</h2>\n<p class=\"note\">One histogram per column and month. \
         The bins of a numeric column are the same for every month, from the lowest p1 to the highest p99 \
         (integer codes: one bar per value), so that a few absurd values do not flatten them; what falls outside \
         is counted under the chart. Timestamps: one bar per day of the file's month.</p>\n<nav class=\"toc\">",
    );
    for column in &eda.columns {
        let _ = write!(out, "<a href=\"#column-{c}\">{c}</a>", c = escape(&column.name));
    }
    out.push_str("</nav>\n");
    for column in &eda.columns {
        let _ = write!(
            out,
            "<section class=\"column\" id=\"column-{c}\" data-column-section=\"{c}\"><h3>{c}<span class=\"dtype-label\">{t}</span></h3>\n<div class=\"hists\">\n",
            c = escape(&column.name),
            t = escape(&column.data_type),
        );
        for month in &eda.months {
            let name = histogram_name(&column.name, month.month);
            if let Some(chart) = charts.iter().find(|c| c.name == name) {
                figure(&mut out, chart, "hist", "h4");
            }
        }
        out.push_str("</div>\n</section>\n");
    }
    out.push_str("</section>\n</main>\n</body>\n</html>\n");
    out
}
