//! The pages, laid out with maud from the model and the charts: the dashboard (tiles, maps,
//! the market share in [`market`], charts, the TLC's figures in [`tlc`], data quality), the
//! page shown when the mart cannot be read, and the EDA report ([`eda`]). Each is one
//! self-contained HTML page: inline CSS, inline SVG, no script and no network request, so it
//! opens from a file and cannot log a script error.

pub mod congestion;
pub mod eda;
pub mod market;
pub mod tlc;

use atl_core::YearMonth;
use maud::{Markup, PreEscaped, html};

use crate::chart::Chart;
use crate::filter::Measure;
use crate::html::{PageMode, document, legend};
use crate::model::{Aggregates, Kpi};
use crate::numbers::thousands;
use crate::palette::service_colour;

/// A chart in its `<figure>`: the title, a note when only taxis fill it, the legend, then
/// the chart's own SVG.
fn figure(chart: &Chart, a: &Aggregates) -> Markup {
    html! {
        figure class="chart" id={ "chart-" (chart.name) } data-chart=(chart.name) data-marks=(chart.marks)
            data-count-of=[chart.count.map(|c| c.of)] data-count=[chart.count.map(|c| c.value)] {
            h3 { (chart.title) }
            @if let Some(note) = market::taxi_only(a, chart.name) { p class="note taxi-only" data-taxi-only=(chart.name) { (note) } }
            (legend(&chart.legend))
            // plotters (and the maps) write a prolog-free <svg> element: inlined as it is.
            (PreEscaped(&chart.svg))
        }
    }
}

/// A KPI tile and its change against the previous period.
fn tile(kpi: &Kpi, previous_label: &str, a: &Aggregates) -> Markup {
    let value_attr = kpi.value.map(|v| v.to_string()).unwrap_or_default();
    html! {
        div class="kpi" {
            h2 { (kpi.label) }
            div class="value" data-kpi=(kpi.key) data-value=(value_attr) { (kpi.display) }
            @match (kpi.change(), kpi.change_display()) {
                (Some(c), Some(text)) => {
                    @let class = if c > 0.0 { "up" } else if c < 0.0 { "down" } else { "flat" };
                    div class={ "change " (class) } data-change=(c) { (text) " vs " (previous_label) }
                }
                _ => div class="change" { "no data for " (previous_label) },
            }
            @if let Some(note) = market::taxi_only(a, kpi.key) { div class="note taxi-only" data-taxi-only=(kpi.key) { (note) } }
        }
    }
}

/// The dashboard page.
pub fn dashboard(
    a: &Aggregates,
    kpis: &[Kpi],
    charts: &[Chart],
    mode: PageMode,
    generated_at: &str,
) -> String {
    let drawn = a.services_drawn();
    let services = drawn.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(",");
    // Only the services the period holds: a legend names what is drawn.
    let swatches: Vec<(String, String)> =
        drawn.iter().map(|s| (s.display_name(), service_colour(s.id).hex())).collect();
    let previous_label = a.previous_period.to_string();
    let is_map = |c: &&Chart| c.name.starts_with("zone_map");
    let is_quality = |c: &&Chart| matches!(c.name, "rows_by_month" | "rejects_by_reason");
    let own_section = |c: &&Chart| matches!(c.name, "tlc_trips_per_day" | "market_map");
    let main = charts.iter().filter(|c| !is_map(c) && !is_quality(c) && !own_section(c));
    let tlc_chart =
        charts.iter().find(|c| c.name == "tlc_trips_per_day").filter(|_| !a.reference.tlc.is_empty());
    let body = html! {
        body data-period=(a.period.to_string()) data-services=(services)
            data-borough=(a.filter.borough.as_deref().unwrap_or("")) {
            header {
                h1 { "NYC " (market::what(a)) " — " (a.period.to_string()) }
                p {
                    "From the ATL-Datamart mart, generated " (generated_at) ". Changes compare with "
                    (a.previous_period.to_string()) "."
                    (legend(&swatches))
                }
                @match mode {
                    PageMode::Live { .. } => (filter_form(a)),
                    PageMode::File => p class="note" { "Showing " (a.filter.to_string()) "." },
                }
                @if let Some(borough) = &a.filter.borough {
                    p class="note" id="borough-note" {
                        "Borough " (borough) ": every tile and panel counts the trips picked up in it, taxis and \
                         for-hire alike. The market-share table keeps every borough, " (borough) "'s row marked; \
                         the TLC's figures and the data-quality section are the whole city's (the TLC reports no \
                         borough, and a month is built and accounted for whole)."
                    }
                }
            }
            main {
                section class="kpis" id="kpis" { @for kpi in kpis { (tile(kpi, &previous_label, a)) } }
                section class="maps" id="maps" { @for chart in charts.iter().filter(is_map) { (figure(chart, a)) } }
                (tlc::release_note(a.reference.shapes_release.as_ref(), "Zone shapes", "shapes", "no zone shapes: atl-ingest --zones, then atl-mart build, loads them"))
                (market::section(a, charts.iter().find(|c| c.name == "market_map")))
                section class="charts" id="charts" { @for chart in main { (figure(chart, a)) } }
                (congestion::section(a))
                (tlc::table(a))
                @if let Some(chart) = tlc_chart {
                    div class="tlc-chart" { (figure(chart, a)) }
                }
                section id="quality" {
                    h2 { "Data quality" }
                    (quality_notes(a))
                    div class="charts" { @for chart in charts.iter().filter(is_quality) { (figure(chart, a)) } }
                }
            }
        }
    };
    document(&format!("NYC {} {}", market::what(a), a.period), mode, "", body)
}

/// Rows built and rejected over the mart, and the months never built.
fn quality_notes(a: &Aggregates) -> Markup {
    let missing = a.missing_months();
    let missing_list: Vec<String> = missing.iter().map(|m| m.to_string()).collect();
    let built: i64 = a.rows_by_month.iter().map(|r| r.fact_rows).sum();
    let rejected: i64 = a.rows_by_month.iter().map(|r| r.rejected_rows).sum();
    let spans = month_spans(&missing);
    let unnamed: Vec<&str> =
        a.services.iter().filter(|s| s.is_unnamed_licence()).map(|s| s.name.as_str()).collect();
    html! {
        div class="quality-notes" {
            p { (a.rows_by_month.len()) " months built, " (thousands(built)) " rows kept, " (thousands(rejected)) " rejected." }
            @if !unnamed.is_empty() {
                p data-unnamed-licences=(unnamed.join(",")) {
                    "High-volume licences the mart knows no company for: " (unnamed.join(", "))
                    ". Their trips are kept, each as a service named by its licence (the TLC may have licensed a new company)."
                }
            }
            div data-missing-months=(missing_list.join(",")) {
                @match missing.len() {
                    0 => p { "Months missing between the first and last build: none." },
                    // A long list folds: its spans are what a reader needs first.
                    n if n > 6 => details {
                        summary { (n) " months missing between the first and last build, in " (spans.len()) " spans" }
                        p { (spans.join(", ")) "." }
                    },
                    _ => p { "Months missing between the first and last build: " (spans.join(", ")) "." },
                }
            }
        }
    }
}

/// Consecutive months as spans: `2023-03`, `2020-04..2022-02`.
pub fn month_spans(months: &[YearMonth]) -> Vec<String> {
    let mut spans: Vec<(YearMonth, YearMonth)> = Vec::new();
    for &m in months {
        match spans.last_mut() {
            Some((_, last)) if last.next() == m => *last = m,
            _ => spans.push((m, m)),
        }
    }
    spans.into_iter().map(|(a, b)| if a == b { a.to_string() } else { format!("{a}..{b}") }).collect()
}

/// The live page's filter form: a plain GET form, so it works without script.
fn filter_form(a: &Aggregates) -> Markup {
    let chosen = |name: &str| a.filter.services.iter().any(|n| n.eq_ignore_ascii_case(name));
    let is_borough = |b: &str| a.filter.borough.as_deref().is_some_and(|f| f.eq_ignore_ascii_case(b));
    html! {
        form class="filters" method="get" action="/" id="filters" {
            fieldset {
                legend { "Services" }
                @for s in &a.services {
                    label { input type="checkbox" name="service" value=(s.name) checked[chosen(&s.name)]; (s.display_name()) }
                    " "
                }
            }
            label { "Months " input name="period" value=(a.period.to_string()) size="18" placeholder="2024-01..2024-03"; }
            label {
                "Borough "
                select name="borough" {
                    option value="" { "All boroughs" }
                    @for b in &a.boroughs { option selected[is_borough(b)] { (b) } }
                }
            }
            label {
                "Second map "
                select name="measure" {
                    @for m in Measure::ALL { option value=(m.key()) selected[m == a.filter.measure] { (m.label()) } }
                }
            }
            button type="submit" { "Show" }
            " "
            span class="note" { "No service ticked: all." }
        }
    }
}

/// The page shown when the mart cannot be read; `data-error` names the cause.
pub fn unavailable(message: &str, cause: &str, mode: PageMode) -> String {
    let body = html! {
        body {
            div class="unavailable" data-error=(cause) {
                h1 { "The dashboard cannot read the mart" }
                p { (message) }
                p { "This page reloads by itself; the dashboard appears as soon as the mart answers." }
            }
        }
    };
    document("NYC trips — mart unavailable", mode, "", body)
}
