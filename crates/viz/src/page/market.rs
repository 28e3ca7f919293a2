//! The market-share table (each side's share of the pickups by borough, with the city's
//! row), and the wording the for-hire half asks of the rest of the page: the title says
//! "trips" rather than "taxi trips", and the figures only taxi records can fill say so.

use maud::{Markup, html};

use crate::chart::Chart;
use crate::chart::market::rival_colour;
use crate::filter::Measure;
use crate::model::{Aggregates, Service, Shares, any_for_hire};
use crate::numbers::thousands;

/// What the page counts: "taxi trips" while only cabs are shown, else "trips".
pub fn what(a: &Aggregates) -> &'static str {
    if shows_for_hire(a) { "trips" } else { "taxi trips" }
}

/// Whether a for-hire service is drawn; in a period without a day of trips, whether one is
/// chosen (every service of the mart when none is named), so that an empty page for Uber is
/// not titled "taxi trips".
fn shows_for_hire(a: &Aggregates) -> bool {
    let drawn = a.services_drawn();
    if !drawn.is_empty() {
        return any_for_hire(&drawn);
    }
    let named = |s: &&Service| a.filter.services.iter().any(|n| n.eq_ignore_ascii_case(&s.name));
    let chosen: Vec<&Service> =
        a.services.iter().filter(|s| a.filter.services.is_empty() || named(s)).collect();
    any_for_hire(&chosen)
}

/// Why a chart (by name) or a KPI tile (by key) holds the taxis' figures only, when the page
/// shows for-hire services too; `None` for the others. The for-hire records carry no payment
/// type, so they have no card payments and no card tips.
pub fn taxi_only(a: &Aggregates, figure: &str) -> Option<&'static str> {
    if !shows_for_hire(a) {
        return None;
    }
    match figure {
        "payment_share" => Some("Taxis only: the for-hire records carry no payment type."),
        "tip_rate_by_borough" => {
            Some("Taxis only: card tips over card fares, and the for-hire records carry no payment type.")
        }
        "zone_map_measure" if a.filter.measure == Measure::TipRate => {
            Some("Taxis only: card tips over card fares, and the for-hire records carry no payment type.")
        }
        "tip_rate" => Some("Taxis only (card payments)"),
        _ => None,
    }
}

/// The share cells of a row, one per side shown.
fn share_cells(a: &Aggregates, borough: &str, s: &Shares) -> Markup {
    html! {
        @for r in &a.market.rivals {
            td data-borough=(borough) data-service=(r.key()) data-share=(s.display(*r)) data-trips=(s.trips_of(*r)) {
                (s.display(*r)) " %"
            }
        }
    }
}

/// The section: what the shares count, then the map (drawn when two sides have pickups)
/// beside the table by borough, or why there is none.
pub fn section(a: &Aggregates, map: Option<&Chart>) -> Markup {
    let m = &a.market;
    let chosen = |b: &str| a.filter.borough.as_deref().is_some_and(|f| f.eq_ignore_ascii_case(b));
    let keys: Vec<&str> = m.rivals.iter().map(|r| r.key()).collect();
    html! {
        section id="market-share" data-rivals=(keys.join(",")) {
            h2 { "Market share by pickup zone and borough" }
            @if m.rivals.len() < 2 {
                p class="note" data-market="one-side" {
                    @match m.rivals.first() {
                        Some(r) => { "Among the chosen services, only " (r.label()) " have pickups by zone in " (a.period.to_string()) ": no share to compare. Choose more services to see them side by side." },
                        None => { "No pickups by zone in " (a.period.to_string()) "." },
                    }
                }
            } @else {
                p class="note" {
                    "Each side's share of the pickups of the chosen services in " (a.period.to_string())
                    ", by pickup zone on the map and by pickup borough in the table. Taxis are the yellow and green cabs together; \
                     other for-hire is every for-hire service but Uber and Lyft. Shares are rounded to 0.1 % so that each row \
                     adds up to 100 % (largest remainder)."
                    @if let Some(b) = &a.filter.borough {
                        " " (b) " is marked; the other boroughs stay for comparison (the map pales them)."
                    }
                }
                div class="maps" {
                @if let Some(map) = map { (super::figure(map, a)) }
                div class="table-wrap market-wrap" {
                    table class="market" {
                        thead {
                            tr {
                                th { "Pickup borough" }
                                th { "Pickups" }
                                @for r in &m.rivals {
                                    th { span class="swatch" style={ "background:" (rival_colour(*r).hex()) } {} (r.label()) }
                                }
                            }
                        }
                        tbody {
                            @for b in &m.boroughs {
                                tr class=[chosen(&b.borough).then_some("chosen")] data-borough=(b.borough) {
                                    td { (b.borough) }
                                    td data-trips=(b.shares.total()) { (thousands(b.shares.total())) }
                                    (share_cells(a, &b.borough, &b.shares))
                                }
                            }
                        }
                        tfoot {
                            tr class="total" data-borough="all" {
                                td { "All boroughs" }
                                td data-trips=(m.city.total()) { (thousands(m.city.total())) }
                                (share_cells(a, "all", &m.city))
                            }
                        }
                    }
                }
                }
            }
        }
    }
}
