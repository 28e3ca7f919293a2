//! Market share by pickup zone and borough: for the period and the chosen services, each
//! rival's share of the pickups (`mart.agg_zone_month`), per zone (the map), per borough and
//! for the whole city (the table). Yellow and green cabs count together as the taxis: the
//! question this view answers is the ride-hailing companies against the cabs.
//!
//! Shares are kept in tenths of a percent, rounded by largest remainder so that the shares
//! of a zone or a borough, as the page writes them, add up to exactly 100.0 %.

use crate::model::dashboard::Service;

/// The sides of the market the view sets beside each other, in column order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rival {
    /// Yellow and green cabs together.
    Taxis,
    Uber,
    Lyft,
    /// Every other for-hire service: the other FHV bases, Juno, Via, licences the mart names
    /// by their code.
    OtherForHire,
}

impl Rival {
    pub const ALL: [Rival; 4] = [Rival::Taxis, Rival::Uber, Rival::Lyft, Rival::OtherForHire];

    /// The side a `mart.dim_service` service is on.
    pub fn of(service: &Service) -> Rival {
        match service.name.as_str() {
            "yellow" | "green" => Rival::Taxis,
            "uber" => Rival::Uber,
            "lyft" => Rival::Lyft,
            _ => Rival::OtherForHire,
        }
    }

    /// The page's `data-service` value.
    pub fn key(self) -> &'static str {
        match self {
            Rival::Taxis => "taxis",
            Rival::Uber => "uber",
            Rival::Lyft => "lyft",
            Rival::OtherForHire => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Rival::Taxis => "Taxis (yellow + green)",
            Rival::Uber => "Uber",
            Rival::Lyft => "Lyft",
            Rival::OtherForHire => "Other for-hire",
        }
    }

    fn index(self) -> usize {
        Rival::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }
}

/// Whether any of `services` is a for-hire one: the page then says "trips", not "taxi trips",
/// and the panels only taxi records can fill say so.
pub fn any_for_hire(services: &[&Service]) -> bool {
    services.iter().any(|s| Rival::of(s) != Rival::Taxis)
}

/// One service's pickups in a zone over the period, as `sql/zone_market_share.sql` reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneServiceTrips {
    pub zone_id: i32,
    /// The zone's borough (`Unknown` for a zone the mart has no borough for).
    pub borough: String,
    pub service: i16,
    pub trips: i64,
}

/// Pickups by rival and their shares in tenths of a percent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shares {
    /// By [`Rival::ALL`] order.
    pub trips: [i64; 4],
    /// Tenths of a percent, by [`Rival::ALL`] order: they add up to 1000 when there are trips.
    pub tenths: [i64; 4],
}

impl Shares {
    /// The shares of `trips`, by largest remainder: each rival gets the floor of its exact
    /// share in tenths of a percent, and the tenths left go to the largest remainders
    /// (ties to the rival with more trips, then to the first).
    pub fn of(trips: [i64; 4]) -> Shares {
        let total: i64 = trips.iter().sum();
        if total <= 0 {
            return Shares { trips, tenths: [0; 4] };
        }
        let exact = trips.map(|t| i128::from(t) * 1000);
        let mut tenths = exact.map(|e| (e / i128::from(total)) as i64);
        let left = 1000 - tenths.iter().sum::<i64>();
        let mut order: Vec<usize> = (0..4).collect();
        order.sort_by_key(|&i| {
            (std::cmp::Reverse(exact[i] % i128::from(total)), std::cmp::Reverse(trips[i]), i)
        });
        for &i in order.iter().take(left.max(0) as usize) {
            tenths[i] += 1;
        }
        Shares { trips, tenths }
    }

    pub fn total(&self) -> i64 {
        self.trips.iter().sum()
    }

    pub fn trips_of(&self, rival: Rival) -> i64 {
        self.trips[rival.index()]
    }

    /// `41.2`: the share as the page writes it, in percent.
    pub fn display(&self, rival: Rival) -> String {
        let t = self.tenths[rival.index()];
        format!("{}.{}", t / 10, t % 10)
    }

    /// The exact share, 0..=1.
    pub fn ratio(&self, rival: Rival) -> f64 {
        let total = self.total();
        if total > 0 { self.trips_of(rival) as f64 / total as f64 } else { 0.0 }
    }

    /// The rival with the most pickups (the first of [`Rival::ALL`] on a tie); `None` without.
    pub fn leader(&self) -> Option<Rival> {
        let max = *self.trips.iter().max()?;
        (max > 0).then(|| Rival::ALL[self.trips.iter().position(|t| *t == max).unwrap_or(0)])
    }

    fn add(&mut self, rival: Rival, trips: i64) {
        self.trips[rival.index()] += trips;
    }
}

/// A pickup zone's shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneShares {
    pub zone_id: i32,
    pub borough: String,
    pub shares: Shares,
}

/// A pickup borough's shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoroughShares {
    pub borough: String,
    pub shares: Shares,
}

/// The market-share view: every zone and borough with pickups of the chosen services.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Market {
    /// By zone id.
    pub zones: Vec<ZoneShares>,
    /// Busiest first.
    pub boroughs: Vec<BoroughShares>,
    pub city: Shares,
    /// The rivals with pickups in the period, in [`Rival::ALL`] order: the table's columns.
    pub rivals: Vec<Rival>,
}

impl Market {
    /// The view of `rows`; `services` tells each service's side (a service the list does not
    /// hold counts with the other for-hire ones).
    pub fn of(rows: &[ZoneServiceTrips], services: &[Service]) -> Market {
        let rival =
            |id: i16| services.iter().find(|s| s.id == id).map(Rival::of).unwrap_or(Rival::OtherForHire);
        let mut zones: Vec<ZoneShares> = Vec::new();
        let mut boroughs: Vec<BoroughShares> = Vec::new();
        let mut city = Shares::default();
        for r in rows.iter().filter(|r| r.trips > 0) {
            let side = rival(r.service);
            match zones.iter_mut().find(|z| z.zone_id == r.zone_id) {
                Some(z) => z.shares.add(side, r.trips),
                None => {
                    let mut shares = Shares::default();
                    shares.add(side, r.trips);
                    zones.push(ZoneShares { zone_id: r.zone_id, borough: r.borough.clone(), shares });
                }
            }
            match boroughs.iter_mut().find(|b| b.borough == r.borough) {
                Some(b) => b.shares.add(side, r.trips),
                None => {
                    let mut shares = Shares::default();
                    shares.add(side, r.trips);
                    boroughs.push(BoroughShares { borough: r.borough.clone(), shares });
                }
            }
            city.add(side, r.trips);
        }
        for z in &mut zones {
            z.shares = Shares::of(z.shares.trips);
        }
        for b in &mut boroughs {
            b.shares = Shares::of(b.shares.trips);
        }
        zones.sort_by_key(|z| z.zone_id);
        boroughs
            .sort_by(|a, b| b.shares.total().cmp(&a.shares.total()).then_with(|| a.borough.cmp(&b.borough)));
        let city = Shares::of(city.trips);
        let rivals = Rival::ALL.into_iter().filter(|r| city.trips_of(*r) > 0).collect();
        Market { zones, boroughs, city, rivals }
    }

    pub fn zone(&self, zone_id: i32) -> Option<&ZoneShares> {
        self.zones.iter().find(|z| z.zone_id == zone_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_exactly_a_hundred_percent() {
        // Thirds: 333.33… each; the tenth left goes to the first (equal remainders and trips).
        let s = Shares::of([1, 1, 1, 0]);
        assert_eq!(s.tenths, [334, 333, 333, 0]);
        assert_eq!(s.display(Rival::Taxis), "33.4");
        // 2/7, 4/7, 1/7: 285.7, 571.4, 142.9 → floors 285, 571, 142, the two largest
        // remainders (.857 and .714) get a tenth each.
        let s = Shares::of([2, 4, 1, 0]);
        assert_eq!(s.tenths, [286, 571, 143, 0]);
        assert_eq!(s.leader(), Some(Rival::Uber));
        assert_eq!(Shares::of([0; 4]).tenths, [0; 4]);
        assert_eq!(Shares::of([0; 4]).leader(), None);
        for trips in [[7, 13, 29, 1], [1_000_000_007, 3, 5, 11], [999, 1, 0, 0]] {
            let s = Shares::of(trips);
            assert_eq!(s.tenths.iter().sum::<i64>(), 1000, "{trips:?}");
            for r in Rival::ALL {
                let exact = s.ratio(r) * 1000.0;
                assert!((s.tenths[r.index()] as f64 - exact).abs() < 1.0, "{trips:?} {r:?}");
            }
        }
    }

    #[test]
    fn services_fall_on_their_side_and_zones_add_to_boroughs() {
        let service = |id, name: &str| Service { id, name: name.into(), licence: None };
        let services = [service(1, "yellow"), service(2, "green"), service(3, "fhv"), service(6, "uber")];
        let row = |zone_id, borough: &str, service, trips| ZoneServiceTrips {
            zone_id,
            borough: borough.into(),
            service,
            trips,
        };
        let rows = [
            row(4, "Manhattan", 1, 30),
            row(4, "Manhattan", 2, 10),
            row(4, "Manhattan", 6, 60),
            row(7, "Queens", 3, 5),
            row(7, "Queens", 8, 15),
            row(9, "Manhattan", 6, 0),
        ];
        let m = Market::of(&rows, &services);
        assert_eq!(m.zones.len(), 2, "a zone without pickups is left out");
        assert_eq!(m.zone(4).unwrap().shares.trips, [40, 60, 0, 0]);
        // Service 8 is not in the list: counted with the other for-hire ones.
        assert_eq!(m.zone(7).unwrap().shares.trips, [0, 0, 0, 20]);
        assert_eq!(m.boroughs[0].borough, "Manhattan");
        assert_eq!(m.city.trips, [40, 60, 0, 20]);
        assert_eq!(m.rivals, [Rival::Taxis, Rival::Uber, Rival::OtherForHire]);
        assert!(any_for_hire(&[&services[0], &services[3]]));
        assert!(!any_for_hire(&[&services[0], &services[1]]));
    }
}
