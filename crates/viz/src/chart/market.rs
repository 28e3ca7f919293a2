//! The market-share map: each pickup zone in the colour of the side with the most pickups
//! there (taxis, Uber, Lyft, other for-hire), the paler the smaller that side's share. Each
//! zone carries its figures (`data-zone`, `data-service`: the leader, `data-share`: its
//! share in percent as the page writes it, `data-shares`: every side's, `data-trips`) and a
//! `<title>` tooltip listing them. Zones without pickups are hatched, zones outside a chosen
//! borough pale, as on the other maps.

use maud::html;

use crate::chart::Chart;
use crate::chart::map::{frame, no_shapes};
use crate::model::{Aggregates, Rival};
use crate::numbers::thousands;
use crate::palette::{MAP_NO_TRIPS_SWATCH, MAP_OUTSIDE, Rgb, YELLOW, service_colour};

const NAME: &str = "market_map";

/// A side's colour: the taxis yellow, the others their service's colour (palette ids: 6
/// Uber, 8 Lyft, 3 other FHV).
pub fn rival_colour(rival: Rival) -> Rgb {
    match rival {
        Rival::Taxis => YELLOW,
        Rival::Uber => service_colour(6),
        Rival::Lyft => service_colour(8),
        Rival::OtherForHire => service_colour(3),
    }
}

/// The leader's share as an opacity: a side leading with a quarter of the pickups (four
/// sides) is pale, yet darker than a zone outside the borough; one with them all full.
fn opacity(share: f64) -> f64 {
    (0.35 + 0.65 * (share - 0.25) / 0.75).clamp(0.35, 1.0)
}

/// The map; it says so when the mart has no shapes.
pub fn zone_map(a: &Aggregates) -> Chart {
    let title = "Leading service by pickup zone (the paler, the smaller its share)".to_owned();
    let shapes = &a.reference.zone_shapes;
    if shapes.is_empty() {
        return no_shapes(NAME, title);
    }
    let borough = a.filter.borough.as_deref();
    let (mut svg, px) = frame(shapes, NAME);
    let mut marks = 0;
    let (mut leaders, mut no_trips, mut outside) = (Vec::new(), false, false);
    for shape in shapes {
        let zone = a.market.zone(shape.zone_id);
        let is_outside = borough.is_some_and(|b| !b.eq_ignore_ascii_case(&shape.borough));
        let leader = zone.and_then(|z| z.shares.leader());
        let path = match (is_outside, zone, leader) {
            (true, _, _) => {
                outside = true;
                html! {
                    path d=(shape.svg_path) fill=(MAP_OUTSIDE) stroke="#7f8a96" stroke-width=(0.6 * px)
                        data-zone=(shape.zone_id) data-class="outside" {
                        title { (shape.zone) " (" (shape.borough) ", zone " (shape.zone_id) "): outside the chosen borough" }
                    }
                }
            }
            (false, Some(z), Some(leader)) => {
                marks += 1;
                if !leaders.contains(&leader) {
                    leaders.push(leader);
                }
                let s = &z.shares;
                let all: Vec<String> =
                    a.market.rivals.iter().map(|r| format!("{}:{}", r.key(), s.display(*r))).collect();
                let told: Vec<String> =
                    a.market.rivals.iter().map(|r| format!("{} {} %", r.label(), s.display(*r))).collect();
                html! {
                    path d=(shape.svg_path) fill=(rival_colour(leader).hex()) fill-opacity=(format!("{:.3}", opacity(s.ratio(leader))))
                        stroke="#7f8a96" stroke-width=(0.6 * px) stroke-linejoin="round"
                        data-zone=(shape.zone_id) data-service=(leader.key()) data-share=(s.display(leader))
                        data-shares=(all.join(" ")) data-trips=(s.total()) data-class="leader" {
                        title { (shape.zone) " (" (shape.borough) ", zone " (shape.zone_id) "): " (told.join(", ")) " of " (thousands(s.total())) " pickups" }
                    }
                }
            }
            _ => {
                no_trips = true;
                html! {
                    path d=(shape.svg_path) fill={ "url(#" (NAME) "-none)" } stroke="#7f8a96" stroke-width=(0.6 * px)
                        data-zone=(shape.zone_id) data-trips="0" data-class="none" {
                        title { (shape.zone) " (" (shape.borough) ", zone " (shape.zone_id) "): no trips" }
                    }
                }
            }
        };
        svg.push_str(&path.into_string());
    }
    svg.push_str("</svg>");
    let mut legend: Vec<(String, String)> = Rival::ALL
        .into_iter()
        .filter(|r| leaders.contains(r))
        .map(|r| (format!("{} leads", r.label()), rival_colour(r).hex()))
        .collect();
    if no_trips {
        legend.push(("No trips".into(), MAP_NO_TRIPS_SWATCH.into()));
    }
    if outside {
        legend.push((format!("Outside {}", borough.unwrap_or("")), MAP_OUTSIDE.into()));
    }
    Chart { name: NAME, title, svg, marks, legend, count: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_larger_lead_is_darker() {
        assert_eq!(opacity(0.25), 0.35);
        assert_eq!(opacity(1.0), 1.0);
        assert!(opacity(0.4) < opacity(0.6));
    }
}
