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
    let _ = write!(
        out,
        "<body data-period=\"{period}\">\n<header><h1>NYC taxi trips — {period}</h1><p>From the ATL-Datamart mart, generated {generated}. \
         Changes compare with {previous}.",
        period = a.period,
        generated = escape(generated_at),
        previous = a.previous_period,
    );
    let services: Vec<(String, String)> =
        a.services.iter().map(|s| (s.display_name(), hex(service_colour(s.id)))).collect();
    legend(&mut out, &services);
    out.push_str("</p></header>\n<main>\n<section class=\"kpis\" id=\"kpis\">\n");
    let previous_label = a.previous_period.to_string();
    for kpi in kpis {
        tile(&mut out, kpi, &previous_label);
    }
    out.push_str("</section>\n<section class=\"charts\" id=\"charts\">\n");
    let (quality, main): (Vec<&Chart>, Vec<&Chart>) =
        charts.iter().partition(|c| matches!(c.name, "rows_by_month" | "rejects_by_reason"));
    for chart in main {
        figure(&mut out, chart);
    }
    out.push_str(
        "</section>\n<section id=\"quality\">\n<h2>Data quality</h2>\n<div class=\"quality-notes\">",
    );
    let missing = a.missing_months();
    let missing_list: Vec<String> = missing.iter().map(|m| m.to_string()).collect();
    let built: i64 = a.rows_by_month.iter().map(|r| r.1).sum();
    let rejected: i64 = a.rows_by_month.iter().map(|r| r.2).sum();
    let _ = write!(
        out,
        "<p>{} months built, {} rows kept, {} rejected. <span data-missing-months=\"{}\">Months missing between the first and last build: {}.</span></p>",
        a.rows_by_month.len(),
        thousands(built),
        thousands(rejected),
        missing_list.join(","),
        if missing.is_empty() { "none".to_owned() } else { missing_list.join(", ") },
    );
    out.push_str("</div>\n<div class=\"charts\">\n");
    for chart in quality {
        figure(&mut out, chart);
    }
    out.push_str("</div>\n</section>\n</main>\n</body>\n</html>\n");
    out
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
