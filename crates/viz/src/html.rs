//! The pages' shell: `<!DOCTYPE>`, `<head>` with the dashboard's style sheet, and the body
//! given by a page. Every page is written with maud, whose `html!` escapes each value it
//! inserts; markup that is already markup (the charts' SVG, the style sheets) goes in as
//! `PreEscaped`, and nothing else does.

use maud::{DOCTYPE, Markup, PreEscaped, html};

/// Where the page is shown: a file written once, or the live server (which asks the
/// browser to reload it, so a month that lands appears without anyone pressing F5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageMode {
    File,
    Live { refresh_secs: u32 },
}

/// The dashboard's style; the EDA report adds its own after it.
pub const CSS: &str = r#"
:root { --ink: #1d2430; --muted: #5b6575; --line: #dde2ea; --bg: #f5f7fa; --up: #1e7d45; --down: #b03a2e; }
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
header { padding: 20px 28px 8px; }
header h1 { margin: 0 0 4px; font-size: 24px; }
header p { margin: 0; color: var(--muted); }
.legend { display: inline-flex; gap: 14px; margin-left: 12px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
main { padding: 8px 28px 28px; }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0 20px; }
.kpi { flex: 1 1 170px; min-width: min-content; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.kpi h2 { margin: 0; font-size: 13px; font-weight: 500; color: var(--muted); }
.kpi .value { font-size: 26px; font-weight: 650; margin: 4px 0 2px; font-variant-numeric: tabular-nums; white-space: nowrap; }
.kpi .note { margin-top: 2px; }
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
.market-wrap { align-self: start; }
table.congestion { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; width: 100%; }
table.congestion th, table.congestion td { padding: 5px 9px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
table.congestion th:nth-child(-n+3), table.congestion td:nth-child(-n+3) { text-align: left; }
table.market { width: 100%; border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
table.market th, table.market td { padding: 5px 12px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
table.market th:first-child, table.market td:first-child { text-align: left; }
table.market tr.chosen td { background: #fff4cc; font-weight: 650; }
table.market tfoot td { font-weight: 650; border-top: 2px solid var(--line); }
figure .taxi-only { margin: 0 0 4px; }
.unavailable { margin: 40px auto; max-width: 760px; background: #fff; border: 1px solid var(--down); border-radius: 8px; padding: 20px 24px; }
.unavailable h1 { color: var(--down); font-size: 22px; margin-top: 0; }
"#;

/// A whole page: the head (title, the dashboard's style then `extra_css`, and the reload of
/// a live page), then `body`, which is the `<body>` element.
pub fn document(title: &str, mode: PageMode, extra_css: &'static str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let PageMode::Live { refresh_secs } = mode {
                    meta http-equiv="refresh" content=(refresh_secs);
                }
                title { (title) }
                // Constant style sheets, written here and in the EDA page: no value in them.
                style { (PreEscaped(CSS)) (PreEscaped(extra_css)) }
            }
            (body)
        }
    }
    .into_string()
}

/// A legend: a swatch of each colour and its label (nothing when `items` is empty).
pub fn legend(items: &[(String, String)]) -> Markup {
    html! {
        @if !items.is_empty() {
            div class="legend" {
                @for (label, colour) in items {
                    span { span class="swatch" style={ "background:" (colour) } {} (label) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_style_sheets_are_not() {
        let page = document(
            "a < b & \"c\"",
            PageMode::Live { refresh_secs: 30 },
            ".x > .y {}",
            html! {
                body { p { "<script>" } }
            },
        );
        assert!(
            page.starts_with("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"),
            "{page}"
        );
        assert!(page.contains("<title>a &lt; b &amp; &quot;c&quot;</title>"), "{page}");
        assert!(page.contains("<meta http-equiv=\"refresh\" content=\"30\">"), "{page}");
        assert!(page.contains(".x > .y {}</style>") && page.contains("\"Segoe UI\""), "{page}");
        assert!(page.contains("<p>&lt;script&gt;</p>") && page.ends_with("</body></html>"), "{page}");
        let swatches = legend(&[("Uber & co".into(), "#222222".into())]).into_string();
        assert_eq!(
            swatches,
            "<div class=\"legend\"><span><span class=\"swatch\" style=\"background:#222222\"></span>Uber &amp; co</span></div>"
        );
        assert_eq!(legend(&[]).into_string(), "");
    }
}
