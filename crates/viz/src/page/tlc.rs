//! The TLC's own figures beside ours, as a table: per month and licence class, the TLC's
//! trips per day and farebox per day (its monthly indicators, `mart.ref_tlc_indicator`), ours
//! on the TLC's definition (every row picked up in the month; farebox = total − tips) and
//! ours after the mart's cleaning, with the deviations in percent; a deviation of ours on the
//! TLC's definition above [`FLAG_ABOVE`] is flagged.

use maud::{Markup, PreEscaped, html};

use crate::model::{Aggregates, FLAG_ABOVE, deviation};
use crate::numbers::decimal;

/// What the table's figures mean. A constant, with quotes left as they are.
const EXPLAINED: &str = "The TLC's monthly report counts every trip picked up in the month, all recorded rows, \
     over the month's days; its farebox is the total minus tips. \"Ours, TLC definition\" counts the same way \
     from the rows the mart received; \"ours after cleaning\" is the fact table the rest of this page shows \
     (rows the cleaning rejects are under Data quality; cleaned farebox subtracts card tips, the only tips \
     recorded). Deviations of ours on the TLC's definition above 1 % are flagged ⚠. The TLC revises past \
     months slightly between releases (about 0.1 %).";

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

/// The comparison table, flagged rows marked, with what the figures mean.
pub fn table(a: &Aggregates) -> Markup {
    let rows = &a.reference.tlc;
    let missing: Vec<String> = rows
        .iter()
        .filter(|r| r.tlc_trips_per_day.is_none())
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
            @if !a.reference.available {
                p class="note" { "This mart has no reference tables yet: run atl-mart build with this release." }
            } @else if rows.is_empty() {
                p class="note" { "No month of a service the TLC reports on in this selection." }
            } @else {
                p class="note" { (PreEscaped(EXPLAINED)) }
                div class="table-wrap" {
                    table class="tlc" {
                        thead { tr { @for h in heads { th { (h) } } } }
                        tbody {
                            @for r in rows {
                                tr data-month=(r.month.to_string()) data-class=(r.licence_class)
                                    data-tlc-trips=(r.tlc_trips_per_day.map(|v| v.to_string()).unwrap_or_default())
                                    data-our-trips=(r.recorded_trips_per_day().map(|v| v.to_string()).unwrap_or_default())
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
            }
        }
    }
}
