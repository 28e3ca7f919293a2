//! The lake's readers on the TLC's own reference files (kept in `crates/testdata/real`):
//! the indicators release of 2024-01 and the zone shapefile as the CDN serves it.

use atl_lake::reference::{read_indicators, read_zone_shapes};
use atl_testdata::real;

#[test]
fn the_real_indicators_release_reads_every_row_with_its_figures() {
    let rows = read_indicators(&std::fs::read(real::path(real::INDICATORS)).unwrap()).unwrap();
    assert_eq!(rows.len(), 731);
    let find = |month: &str, class: &str| {
        let month = month.parse().unwrap();
        rows.iter().find(|r| r.month == month && r.licence_class == class).unwrap()
    };
    // "2,532" and "42,458" in the file: thousands separators inside quotes.
    let green = find("2022-03", "Green");
    assert_eq!((green.trips_per_day, green.farebox_per_day), (Some(2532.0), Some(42458.0)));
    // The for-hire classes have no farebox: '-' reads as not applicable.
    let high_volume = find("2022-01", "FHV - High Volume");
    assert_eq!((high_volume.trips_per_day, high_volume.farebox_per_day), (Some(475_854.0), None));
    let mut classes: Vec<&str> = rows.iter().map(|r| r.licence_class.as_str()).collect();
    classes.sort();
    classes.dedup();
    assert_eq!(
        classes,
        ["FHV - Black Car", "FHV - High Volume", "FHV - Livery", "FHV - Lux Limo", "Green", "Yellow"]
    );
    let (first, last) = (rows.iter().map(|r| r.month).min(), rows.iter().map(|r| r.month).max());
    assert_eq!((first, last), (Some("2010-01".parse().unwrap()), Some("2024-01".parse().unwrap())));
}

#[test]
fn the_real_zone_shapefile_reads_263_polygons_with_the_tlc_s_duplicate_ids() {
    let shapes = read_zone_shapes(&std::fs::read(real::path(real::ZONE_SHAPES)).unwrap()).unwrap();
    assert_eq!(shapes.len(), 263);
    let count = |id: i32| shapes.iter().filter(|s| s.location_id == id).count();
    // The records that should be 57, 104 and 105 carry 56 or 103.
    assert_eq!((count(56), count(103), count(57), count(104)), (2, 3, 0, 0));
    assert!(shapes.iter().all(|s| !s.rings.is_empty() && s.rings.iter().all(|r| r.len() >= 4)));
    let jfk = shapes.iter().find(|s| s.location_id == 132).unwrap();
    assert_eq!((jfk.zone.as_str(), jfk.borough.as_str()), ("JFK Airport", "Queens"));
    // State Plane feet: the city lies between x 913,000 and 1,067,000.
    let xs = shapes.iter().flat_map(|s| s.rings.iter().flatten().map(|p| p.0));
    let (min, max) = xs.fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(x), hi.max(x)));
    assert!(min > 900_000.0 && max < 1_080_000.0, "x from {min} to {max}");
}
