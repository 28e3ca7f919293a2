//! The dashboard as one self-contained HTML page: inline CSS, inline SVG, no script and no
//! network request, so it opens from a file and cannot log a script error.

use std::fmt::Write;

use crate::charts::{Chart, hex, service_colour};
use crate::kpi::Kpi;
use crate::mart::Aggregates;
use crate::numbers::thousands;

/// Where the page is shown: a file written once, or the live server (which asks the
/// browser to reload it, so a month that lands appears without anyone pressing F5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageMode {
    File,
    Live { refresh_secs: u32 },
}

const CSS: &str = r#"
:root { --ink: #1d2430; --muted: #5b6575; --line: #dde2ea; --bg: #f5f7fa; --up: #1e7d45; --down: #b03a2e; }
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
header { padding: 20px 28px 8px; }
header h1 { margin: 0 0 4px; font-size: 24px; }
header p { margin: 0; color: var(--muted); }
.legend { display: inline-flex; gap: 14px; margin-left: 12px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
main { padding: 8px 28px 28px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; margin: 12px 0 20px; }
.kpi { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.kpi h2 { margin: 0; font-size: 13px; font-weight: 500; color: var(--muted); }
.kpi .value { font-size: 26px; font-weight: 650; margin: 4px 0 2px; font-variant-numeric: tabular-nums; }
.kpi .change { font-size: 13px; color: var(--muted); }
.kpi .change.up { color: var(--up); } .kpi .change.down { color: var(--down); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(640px, 1fr)); gap: 16px; }
figure { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
figure h3 { margin: 0 0 6px; font-size: 16px; }
figure .legend { margin: 0 0 4px; font-size: 13px; }
figure svg { width: 100%; height: auto; display: block; }
section h2 { font-size: 19px; margin: 28px 0 8px; }
.quality-notes { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; margin-bottom: 16px; }
form.filters { display: flex; flex-wrap: wrap; gap: 10px 18px; align-items: end; margin: 10px 0 0; font-size: 14px; }
form.filters fieldset { border: 1px solid var(--line); border-radius: 6px; padding: 4px 10px; margin: 0; }
form.filters label { display: inline-flex; gap: 6px; align-items: center; }
.note { color: var(--muted); font-size: 13px; }
details summary { cursor: pointer; }
.maps { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; }
.table-wrap { overflow-x: auto; background: #fff; border: 1px solid var(--line); border-radius: 8px; margin-bottom: 16px; }
table.tlc { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; width: 100%; }
table.tlc th, table.tlc td { padding: 5px 9px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
table.tlc th:nth-child(-n+2), table.tlc td:nth-child(-n+2) { text-align: left; }
table.tlc td.flag { color: var(--down); font-weight: 650; }
.tlc-chart { max-width: 760px; }
.unavailable { margin: 40px auto; max-width: 760px; background: #fff; border: 1px solid var(--down); border-radius: 8px; padding: 20px 24px; }
.unavailable h1 { color: var(--down); font-size: 22px; margin-top: 0; }
"#;

pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

fn head(out: &mut String, title: &str, mode: PageMode) {
    head_with_css(out, title, mode, "");
}

/// `<!DOCTYPE>` to `</head>`: the dashboard's style, then `extra_css`.
pub(crate) fn head_with_css(out: &mut String, title: &str, mode: PageMode, extra_css: &str) {
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    if let PageMode::Live { refresh_secs } = mode {
        let _ = writeln!(out, "<meta http-equiv=\"refresh\" content=\"{refresh_secs}\">");
    }
    let _ = writeln!(out, "<title>{}</title>\n<style>{CSS}{extra_css}</style>\n</head>", escape(title));
}

fn legend(out: &mut String, items: &[(String, String)]) {
    if items.is_empty() {
        return;
    }
    out.push_str("<div class=\"legend\">");
    for (label, colour) in items {
        let _ = write!(
            out,
            "<span><span class=\"swatch\" style=\"background:{colour}\"></span>{}</span>",
            escape(label)
        );
    }
    out.push_str("</div>");
}

fn figure(out: &mut String, chart: &Chart) {
    let _ = write!(
        out,
        "<figure class=\"chart\" id=\"chart-{name}\" data-chart=\"{name}\" data-marks=\"{marks}\">\n<h3>{title}</h3>",
        name = chart.name,
        marks = chart.marks,
        title = escape(&chart.title),
    );
    legend(out, &chart.legend);
    out.push('\n');
    // plotters writes an XML prolog-free <svg> element: inline it as is.
    out.push_str(&chart.svg);
    out.push_str("\n</figure>\n");
}

fn tile(out: &mut String, kpi: &Kpi, previous_label: &str) {
    let value_attr = kpi.value.map(|v| v.to_string()).unwrap_or_default();
    let _ = write!(
        out,
        "<div class=\"kpi\"><h2>{label}</h2><div class=\"value\" data-kpi=\"{key}\" data-value=\"{value_attr}\">{display}</div>",
        label = escape(kpi.label),
        key = kpi.key,
        display = escape(&kpi.display),
    );
    match (kpi.change(), kpi.change_display()) {
        (Some(c), Some(text)) => {
            let class = if c > 0.0 {
                "up"
            } else if c < 0.0 {
                "down"
            } else {
                "flat"
            };
            let _ = write!(
                out,
                "<div class=\"change {class}\" data-change=\"{c}\">{text} vs {}</div>",
                escape(previous_label)
            );
        }
        _ => {
            let _ = write!(out, "<div class=\"change\">no data for {}</div>", escape(previous_label));
        }
    }
    out.push_str("</div>\n");
}

/// The dashboard page.
pub fn dashboard(
    a: &Aggregates,
    kpis: &[Kpi],
    charts: &[Chart],
    mode: PageMode,
    generated_at: &str,
) -> String {
    let mut out = String::with_capacity(charts.iter().map(|c| c.svg.len()).sum::<usize>() + 16_384);
    head(&mut out, &format!("NYC taxi trips {}", a.period), mode);
    let drawn = a.services_drawn();
    let _ = write!(
        out,
        "<body data-period=\"{period}\" data-services=\"{services}\" data-borough=\"{borough}\">\n<header><h1>NYC taxi trips — {period}</h1><p>From the ATL-Datamart mart, generated {generated}. \
         Changes compare with {previous}.",
        period = a.period,
        services = escape(&drawn.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(",")),
        borough = escape(a.filter.borough.as_deref().unwrap_or("")),
        generated = escape(generated_at),
        previous = a.previous_period,
    );
    // Only the services the period holds: a legend names what is drawn.
    let services: Vec<(String, String)> =
        drawn.iter().map(|s| (s.display_name(), hex(service_colour(s.id)))).collect();
    legend(&mut out, &services);
    out.push_str("</p>\n");
    match mode {
        PageMode::Live { .. } => filter_form(&mut out, a),
        PageMode::File => {
            let _ = write!(out, "<p class=\"note\">Showing {}.</p>", escape(&a.filter.to_string()));
        }
    }
    if let Some(borough) = &a.filter.borough {
        let _ = write!(
            out,
            "<p class=\"note\" id=\"borough-note\">Borough {}: the zone panels (busiest zones, tip rate) show its pickups only; \
             the tiles and the daily, hourly, payment and fare panels cover every borough (the mart aggregates them without the zone).</p>",
            escape(borough)
        );
    }
    out.push_str("</header>\n<main>\n<section class=\"kpis\" id=\"kpis\">\n");
    let previous_label = a.previous_period.to_string();
    for kpi in kpis {
        tile(&mut out, kpi, &previous_label);
    }
    out.push_str("</section>\n<section class=\"maps\" id=\"maps\">\n");
    for chart in charts.iter().filter(|c| c.name.starts_with("zone_map")) {
        figure(&mut out, chart);
    }
    out.push_str("</section>\n<section class=\"charts\" id=\"charts\">\n");
    let quality: Vec<&Chart> =
        charts.iter().filter(|c| matches!(c.name, "rows_by_month" | "rejects_by_reason")).collect();
    let main = charts.iter().filter(|c| {
        !c.name.starts_with("zone_map")
            && !matches!(c.name, "rows_by_month" | "rejects_by_reason" | "tlc_trips_per_day")
    });
    for chart in main {
        figure(&mut out, chart);
    }
    out.push_str("</section>\n");
    crate::tlc::table(&mut out, a);
    if let Some(chart) =
        charts.iter().find(|c| c.name == "tlc_trips_per_day").filter(|_| !a.reference.tlc.is_empty())
    {
        out.push_str("<div class=\"tlc-chart\">");
        figure(&mut out, chart);
        out.push_str("</div>\n");
    }
    out.push_str("<section id=\"quality\">\n<h2>Data quality</h2>\n<div class=\"quality-notes\">");
    let missing = a.missing_months();
    let missing_list: Vec<String> = missing.iter().map(|m| m.to_string()).collect();
    let built: i64 = a.rows_by_month.iter().map(|r| r.1).sum();
    let rejected: i64 = a.rows_by_month.iter().map(|r| r.2).sum();
    let _ = write!(
        out,
        "<p>{} months built, {} rows kept, {} rejected.</p><div data-missing-months=\"{}\">",
        a.rows_by_month.len(),
        thousands(built),
        thousands(rejected),
        missing_list.join(","),
    );
    let spans = month_spans(&missing);
    match missing.len() {
        0 => out.push_str("<p>Months missing between the first and last build: none.</p>"),
        // A long list folds: its spans are what a reader needs first.
        n if n > 6 => {
            let _ = write!(
                out,
                "<details><summary>{n} months missing between the first and last build, in {} spans</summary><p>{}.</p></details>",
                spans.len(),
                spans.join(", ")
            );
        }
        _ => {
            let _ =
                write!(out, "<p>Months missing between the first and last build: {}.</p>", spans.join(", "));
        }
    }
    out.push_str("</div>");
    out.push_str("</div>\n<div class=\"charts\">\n");
    for chart in quality {
        figure(&mut out, chart);
    }
    out.push_str("</div>\n</section>\n</main>\n</body>\n</html>\n");
    out
}

/// Consecutive months as spans: `2023-03`, `2020-04..2022-02`.
pub fn month_spans(months: &[atl_core::YearMonth]) -> Vec<String> {
    let mut spans: Vec<(atl_core::YearMonth, atl_core::YearMonth)> = Vec::new();
    for &m in months {
        match spans.last_mut() {
            Some((_, last)) if last.next() == m => *last = m,
            _ => spans.push((m, m)),
        }
    }
    spans.into_iter().map(|(a, b)| if a == b { a.to_string() } else { format!("{a}..{b}") }).collect()
}

/// The live page's filter form: a plain GET form, so it works without script.
fn filter_form(out: &mut String, a: &Aggregates) {
    out.push_str("<form class=\"filters\" method=\"get\" action=\"/\" id=\"filters\"><fieldset><legend>Services</legend>");
    for s in &a.services {
        let checked =
            if a.filter.services.iter().any(|n| n.eq_ignore_ascii_case(&s.name)) { " checked" } else { "" };
        let _ = write!(
            out,
            "<label><input type=\"checkbox\" name=\"service\" value=\"{}\"{checked}>{}</label> ",
            escape(&s.name),
            escape(&s.display_name())
        );
    }
    let _ = write!(
        out,
        "</fieldset><label>Months <input name=\"period\" value=\"{}\" size=\"18\" placeholder=\"2024-01..2024-03\"></label>\
         <label>Borough <select name=\"borough\"><option value=\"\">All boroughs</option>",
        a.period
    );
    for b in &a.boroughs {
        let selected = if a.filter.borough.as_deref().is_some_and(|f| f.eq_ignore_ascii_case(b)) {
            " selected"
        } else {
            ""
        };
        let _ = write!(out, "<option{selected}>{}</option>", escape(b));
    }
    out.push_str("</select></label><label>Second map <select name=\"measure\">");
    for m in crate::filter::Measure::ALL {
        let selected = if m == a.filter.measure { " selected" } else { "" };
        let _ = write!(out, "<option value=\"{}\"{selected}>{}</option>", m.key(), m.label());
    }
    out.push_str("</select></label><button type=\"submit\">Show</button> <span class=\"note\">No service ticked: all.</span></form>\n");
}

/// The page shown when the mart cannot be read; `data-error` names the cause.
pub fn unavailable(message: &str, cause: &str, mode: PageMode) -> String {
    let mut out = String::new();
    head(&mut out, "NYC taxi trips — mart unavailable", mode);
    let _ = write!(
        out,
        "<body>\n<div class=\"unavailable\" data-error=\"{cause}\"><h1>The dashboard cannot read the mart</h1><p>{}</p>\
         <p>This page reloads by itself; the dashboard appears as soon as the mart answers.</p></div>\n</body>\n</html>\n",
        escape(message)
    );
    out
}
