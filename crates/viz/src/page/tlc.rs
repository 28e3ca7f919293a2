//! The TLC's own figures beside ours, as a table: per month and licence class, the TLC's
//! trips per day and farebox per day (its monthly indicators, `mart.ref_tlc_indicator`), ours
//! on the TLC's definition (every row picked up in the month; farebox = total − tips of card
//! trips) and ours after cleaning, with the deviations in percent; a deviation of ours on the
//! TLC's definition above [`FLAG_ABOVE`] is flagged. The for-hire classes have trips only.

use maud::{Markup, PreEscaped, html};

use crate::model::{Aggregates, FLAG_ABOVE, Release, TlcRow, deviation};
use crate::numbers::decimal;

/// What the table's figures mean. A constant, with quotes left as they are. The farebox's
/// definition was measured on real months: sql/mart/README.md, "The TLC's farebox".
const EXPLAINED: &str = "The TLC's monthly report counts every trip picked up in the month, all recorded rows, \
     over the month's days. Its farebox (taxis only: the report gives none for the for-hire classes) is the \
     total amount less the tips of card-paid trips; a tip recorded on a trip of another or of no payment type \
     stays in it. \"Ours, TLC definition\" counts the same way from the rows the mart received; \"ours after \
     cleaning\" is the fact table the rest of this page shows (rows the cleaning rejects are under Data quality; \
     cleaned farebox subtracts card tips too). FHV - High Volume is set beside every trip of the high-volume \
     files (Uber, Lyft, Juno, Via, and any other or no licence); FHV - Other beside the mart's fhv service, every trip of the other-FHV \
     files, and its TLC figure is the sum of the report's classes named below. For-hire trips record no payment \
     type, so ours have no farebox (their passenger totals are in the for-hire panels). Deviations of ours on the \
     TLC's definition above 1 % are flagged ⚠. The TLC revises past months slightly between releases (about 0.1 %).";

/// `FHV - Other: the report's FHV - Black Car + FHV - Livery + FHV - Lux Limo.`, once per
/// class summed from several of the report's.
fn summed_classes(rows: &[TlcRow]) -> Vec<String> {
    let mut lines: Vec<String> = rows
        .iter()
        .filter_map(|r| Some(format!("{}: the report's {}.", r.licence_class, r.report_classes.as_ref()?)))
        .collect();
    lines.sort();
    lines.dedup();
    lines
}

fn number(v: Option<f64>) -> String {
    v.map(|v| decimal(v, 0)).unwrap_or_else(|| "–".into())
}

/// The deviation's cell; flagged (when `flag`) above [`FLAG_ABOVE`].
fn deviation_cell(ours: Option<f64>, theirs: Option<f64>, flag: bool) -> Markup {
    html! {
        @match deviation(ours, theirs) {
            Some(d) => {
                @let flagged = flag && d.abs() > FLAG_ABOVE;
                td class=(if flagged { "dev flag" } else { "dev" }) data-deviation=(d) {
                    @if flagged { "⚠ " }
                    (format!("{:+.2} %", d * 100.0))
                }
            }
            None => td class="dev" { "–" },
        }
    }
}

/// Which copy of a reference file the page shows, or what is missing without one.
pub fn release_note(release: Option<&Release>, what: &str, key: &str, missing: &str) -> Markup {
    html! {
        @match release {
            Some(r) => p class="note release" data-release=(key) data-fetched=(r.fetched_at.format("%Y-%m-%d").to_string()) {
                (what) ": " (r.describe()) "."
            },
            None => p class="note release" data-release=(key) data-fetched="" { "The mart records " (missing) "." },
        }
    }
}

/// The comparison table, flagged rows marked, with what the figures mean.
pub fn table(a: &Aggregates) -> Markup {
    let rows = &a.reference.tlc;
    let missing: Vec<String> = rows
        .iter()
        .filter(|r| r.tlc_trips_per_day.is_none())
        .map(|r| format!("{} {}", r.month, r.licence_class))
        .collect();
    // Months an older release built: counted, but without the card tips the TLC's farebox
    // subtracts (mart migration 0011).
    let unpriced: Vec<String> = rows
        .iter()
        .filter(|r| r.recorded_trips.is_some() && r.recorded_farebox.is_none() && r.cleaned_farebox.is_some())
        .map(|r| format!("{} {}", r.month, r.licence_class))
        .collect();
    let heads = [
        "Month",
        "TLC class",
        "TLC trips/day",
        "Ours (TLC def.)",
        "Δ",
        "Ours cleaned",
        "Δ",
        "TLC farebox/day",
        "Ours (TLC def.)",
        "Δ",
        "Ours cleaned",
        "Δ",
    ];
    html! {
        section id="tlc" {
            h2 { "The TLC's figures beside ours" }
            (release_note(a.reference.indicators_release.as_ref(), "The TLC's indicators", "indicators", "no TLC indicators: atl-ingest --indicators, then atl-mart build, loads them"))
            @if !a.reference.available {
                p class="note" { "This mart has no reference tables yet: run atl-mart build with this release." }
            } @else if rows.is_empty() {
                p class="note" { "No month of a service the TLC reports on in this selection." }
            } @else {
                p class="note" { (PreEscaped(EXPLAINED)) }
                @if let Some(borough) = &a.filter.borough {
                    p class="note" data-whole-city="tlc" {
                        "The whole city's figures, not " (borough) "'s: the TLC reports no borough."
                    }
                }
                @for line in summed_classes(rows) {
                    p class="note summed-classes" { (line) }
                }
                div class="table-wrap" {
                    table class="tlc" {
                        thead { tr { @for h in heads { th { (h) } } } }
                        tbody {
                            @for r in rows {
                                tr data-month=(r.month.to_string()) data-class=(r.licence_class)
                                    data-tlc-trips=(r.tlc_trips_per_day.map(|v| v.to_string()).unwrap_or_default())
                                    data-our-trips=(r.recorded_trips_per_day().map(|v| v.to_string()).unwrap_or_default())
                                    data-tlc-farebox=(r.tlc_farebox_per_day.map(|v| v.to_string()).unwrap_or_default())
                                    data-our-farebox=(r.recorded_farebox_per_day().map(|v| v.to_string()).unwrap_or_default())
                                    data-flagged=(r.flagged().to_string()) {
                                    td { (r.month.to_string()) }
                                    td { (r.licence_class) }
                                    td { (number(r.tlc_trips_per_day)) }
                                    td { (number(r.recorded_trips_per_day())) }
                                    (deviation_cell(r.recorded_trips_per_day(), r.tlc_trips_per_day, true))
                                    td { (number(r.cleaned_trips_per_day())) }
                                    (deviation_cell(r.cleaned_trips_per_day(), r.tlc_trips_per_day, false))
                                    td { (number(r.tlc_farebox_per_day)) }
                                    td { (number(r.recorded_farebox_per_day())) }
                                    (deviation_cell(r.recorded_farebox_per_day(), r.tlc_farebox_per_day, true))
                                    td { (number(r.cleaned_farebox_per_day())) }
                                    (deviation_cell(r.cleaned_farebox_per_day(), r.tlc_farebox_per_day, false))
                                }
                            }
                        }
                    }
                }
                @if !missing.is_empty() {
                    p class="note" {
                        "Not in the TLC's report loaded in the mart (atl-ingest --indicators fetches the newest): "
                        (missing.join(", ")) "."
                    }
                }
                @if !unpriced.is_empty() {
                    p class="note unpriced" {
                        "No farebox on the TLC's definition for months built before the mart counted card tips \
                         (atl-mart build --months rebuilds them): "
                        (unpriced.join(", ")) "."
                    }
                }
            }
        }
    }
}
