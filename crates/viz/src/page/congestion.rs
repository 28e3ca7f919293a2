//! The congestion-pricing panel: from 2025-01-05 the MTA charges trips into Manhattan's
//! Congestion Relief Zone (south of 60th Street) a fee that the trip records carry as
//! `cbd_congestion_fee`. Per month and service, taxis and for-hire side by side: the trips
//! charged, their share of the trips, and the fee's total.

use maud::{Markup, html};

use crate::model::{Aggregates, CongestionMonth, Rival};
use crate::numbers::{money, percent, thousands};

/// The service's name and which side of the market it is on.
fn who(a: &Aggregates, row: &CongestionMonth) -> (String, &'static str) {
    match a.services.iter().find(|s| s.id == row.service) {
        Some(s) => (s.display_name(), if Rival::of(s) == Rival::Taxis { "taxi" } else { "for-hire" }),
        None => (format!("Service {}", row.service), "for-hire"),
    }
}

/// The section: what it counts, then a row per month and service, or why there is none.
pub fn section(a: &Aggregates) -> Markup {
    let whose = match &a.filter.borough {
        Some(b) => format!("of the trips picked up in {b}"),
        None => "of the trips picked up anywhere in the city".to_owned(),
    };
    html! {
        section id="congestion" {
            h2 { "Congestion pricing" }
            p class="note" {
                "Since 2025-01-05 a trip into Manhattan's Congestion Relief Zone (south of 60th Street) carries \
                 the MTA's congestion fee (the records' cbd_congestion_fee): $0.75 a taxi trip, $1.50 a \
                 high-volume for-hire trip. Per month and service, " (whose) ": the trips charged the fee and its total."
            }
            @if a.congestion.is_empty() {
                p class="note" data-congestion="none" {
                    "No trip of the chosen services in " (a.period.to_string()) " was charged the congestion fee."
                }
            } @else {
                div class="table-wrap" {
                    table class="congestion" {
                        thead { tr { th { "Month" } th { "Service" } th { "Side" } th { "Trips" } th { "Charged the fee" } th { "Share" } th { "Fee total" } } }
                        tbody {
                            @for row in &a.congestion {
                                @let (name, side) = who(a, row);
                                tr data-month=(row.month.to_string()) data-service=(name) data-side=(side)
                                    data-trips=(row.trips) data-charged=(row.charged_trips) data-fee=(row.fee) {
                                    td { (row.month.to_string()) }
                                    td { (name) }
                                    td { (side) }
                                    td class="num" { (thousands(row.trips)) }
                                    td class="num" { (thousands(row.charged_trips)) }
                                    td class="num" { (percent(row.charged_trips as f64 / row.trips.max(1) as f64)) }
                                    td class="num" { (money(row.fee)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
