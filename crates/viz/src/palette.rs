//! The colours every chart and legend share: one per service, the same on every panel, and
//! the few that say "every service", "rejected" and "no data". Plain RGB triples, so that the
//! page's legends and the charts (plotters) read the same table.

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `#rrggbb`, as CSS and the legends write it.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// Yellow cabs, the colour of the cars.
pub const YELLOW: Rgb = Rgb(0xf2, 0xb7, 0x05);
/// Green (boro) cabs.
pub const GREEN: Rgb = Rgb(0x2e, 0x9e, 0x5b);
/// Charts that mix the services.
pub const NEUTRAL: Rgb = Rgb(0x4a, 0x6f, 0xa5);
pub const REJECTED: Rgb = Rgb(0xc0, 0x39, 0x2b);
/// Months the mart holds nothing for: a pale band, so a gap reads as a gap.
pub const NO_DATA: Rgb = Rgb(0xee, 0xee, 0xee);
/// The TLC's own figures beside ours.
pub const TLC: Rgb = Rgb(0x33, 0x33, 0x33);
/// Our figures after cleaning, beside the TLC's.
pub const CLEANED: Rgb = Rgb(0x9e, 0xc5, 0xe8);
/// Services after yellow and green (the for-hire ones), by id, distinct from both.
const OTHER_SERVICES: [Rgb; 6] = [
    Rgb(0x4a, 0x6f, 0xa5),
    Rgb(0xc2, 0x18, 0x7a),
    Rgb(0x33, 0x33, 0x33),
    Rgb(0x8e, 0x5a, 0xc8),
    Rgb(0xd3, 0x6b, 0x1f),
    Rgb(0x1b, 0x9a, 0xaa),
];

/// The colour of a service, the same on every chart (ids of sql/mart/migrations: 3 other
/// FHV, 4 HVFHV without licence, 5 Juno, 6 Uber, 7 Via, 8 Lyft; later licences grey).
pub fn service_colour(service_id: i16) -> Rgb {
    match service_id {
        1 => YELLOW,
        2 => GREEN,
        3 => Rgb(0x8e, 0x5b, 0xa8),
        5 => Rgb(0x1f, 0x9e, 0xa8),
        6 => Rgb(0x22, 0x22, 0x22),
        7 => Rgb(0x3c, 0x6e, 0xe0),
        8 => Rgb(0xff, 0x00, 0xbf),
        id => OTHER_SERVICES[(id.max(3) - 3) as usize % OTHER_SERVICES.len()],
    }
}

/// Light to dark blue, `t` in 0..=1: the hour × weekday heat map.
pub fn heat(t: f64) -> Rgb {
    let t = t.clamp(0.0, 1.0).sqrt();
    let mix = |from: u8, to: u8| (from as f64 + (to as f64 - from as f64) * t).round() as u8;
    Rgb(mix(0xee, 0x08), mix(0xf3, 0x30), mix(0xfa, 0x6b))
}

/// The zone maps' colour classes, light to dark.
pub const MAP_CLASSES: [&str; 6] = ["#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c"];
/// A zone whose rate rests on too few trips.
pub const MAP_FEW_TRIPS: &str = "#d9d9d9";
/// A zone outside the chosen borough.
pub const MAP_OUTSIDE: &str = "#f3f3f3";
/// The hatch of zones without trips, as the legend's swatch draws it.
pub const MAP_NO_TRIPS_SWATCH: &str = "repeating-linear-gradient(45deg,#ffffff 0 3px,#b0b0b0 3px 4px)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_css_hex() {
        assert_eq!(YELLOW.hex(), "#f2b705");
        assert_eq!(service_colour(8).hex(), "#ff00bf");
        assert_eq!(service_colour(42), service_colour(42 + 6));
    }
}
