//! The for-hire panels' figures: every service's trips by month (the market share), and for
//! the high-volume services (Uber, Lyft, ...) the driver's pay share, the shared-ride share
//! and the wait from request to pickup by hour.

use atl_core::YearMonth;

/// A wait bin is 30 s wide (sql/mart/migrations/0002_for_hire.sql); a percentile is read at
/// the middle of the bin it falls in.
pub const WAIT_BIN_SEC: f64 = 30.0;

/// A service's trips in a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceMonthTrips {
    pub service: i16,
    pub month: YearMonth,
    pub trips: i64,
}

/// A high-volume service's month: driver pay / base fare, shared rides requested / trips.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForHireMonth {
    pub service: i16,
    pub month: YearMonth,
    /// The trips the shares rest on.
    pub trips: i64,
    pub driver_pay_share: Option<f64>,
    pub shared_share: Option<f64>,
}

/// Trips of a service and pickup hour whose wait fell in the bin starting at `wait_bin` s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitBin {
    pub service: i16,
    pub hour: i16,
    pub wait_bin: i32,
    pub trips: i64,
}

/// The wait of a service's pickups in an hour: median and 90th percentile, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitByHour {
    pub service: i16,
    pub hour: i16,
    pub median_sec: f64,
    pub p90_sec: f64,
    /// The trips with a wait the percentiles rest on.
    pub trips: i64,
}

/// What the for-hire panels show for one period.
#[derive(Debug, Clone, Default)]
pub struct ForHire {
    /// Every service, for the market share.
    pub trips_by_month: Vec<ServiceMonthTrips>,
    pub by_month: Vec<ForHireMonth>,
    pub wait_by_hour: Vec<WaitByHour>,
}

impl ForHire {
    /// Only the rows of `services` (`None`: every service), as the page's service filter says.
    pub fn only(mut self, services: Option<&[i16]>) -> ForHire {
        if let Some(ids) = services {
            self.trips_by_month.retain(|r| ids.contains(&r.service));
            self.by_month.retain(|r| ids.contains(&r.service));
            self.wait_by_hour.retain(|r| ids.contains(&r.service));
        }
        self
    }
}

/// Medians and 90th percentiles per (service, hour) from bins sorted by service, hour and bin.
pub fn percentiles(bins: &[WaitBin]) -> Vec<WaitByHour> {
    let mut out = Vec::new();
    for group in bins.chunk_by(|a, b| (a.service, a.hour) == (b.service, b.hour)) {
        let total: i64 = group.iter().map(|r| r.trips).sum();
        let at = |q: f64| {
            let mut seen = 0;
            for r in group {
                seen += r.trips;
                if seen as f64 >= q * total as f64 {
                    return f64::from(r.wait_bin) + WAIT_BIN_SEC / 2.0;
                }
            }
            f64::NAN
        };
        out.push(WaitByHour {
            service: group[0].service,
            hour: group[0].hour,
            median_sec: at(0.5),
            p90_sec: at(0.9),
            trips: total,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_filter_keeps_the_chosen_services() {
        let month = YearMonth::new(2024, 1).unwrap();
        let trips = |service, trips| ServiceMonthTrips { service, month, trips };
        let pay = |service, share| ForHireMonth {
            service,
            month,
            trips: 100,
            driver_pay_share: Some(share),
            shared_share: None,
        };
        let wait =
            |service, median_sec, p90_sec| WaitByHour { service, hour: 8, median_sec, p90_sec, trips: 10 };
        let all = ForHire {
            trips_by_month: vec![trips(1, 10), trips(6, 30), trips(8, 20)],
            by_month: vec![pay(6, 0.7), pay(8, 0.6)],
            wait_by_hour: vec![wait(6, 45.0, 300.0), wait(8, 60.0, 400.0)],
        };
        let lyft = all.clone().only(Some(&[8]));
        assert_eq!(lyft.trips_by_month, vec![trips(8, 20)]);
        assert_eq!(lyft.by_month.len(), 1);
        assert_eq!(lyft.wait_by_hour, vec![wait(8, 60.0, 400.0)]);
        assert_eq!(all.clone().only(None).trips_by_month.len(), 3);
    }

    #[test]
    fn percentiles_come_from_the_bins() {
        // 10 trips: 4 in [0, 30), 4 in [30, 60), 2 in [300, 330).
        let bin = |service, wait_bin, trips| WaitBin { service, hour: 8, wait_bin, trips };
        let bins = [bin(6, 0, 4), bin(6, 30, 4), bin(6, 300, 2), bin(8, 60, 1)];
        let wait =
            |service, median_sec, p90_sec, trips| WaitByHour { service, hour: 8, median_sec, p90_sec, trips };
        assert_eq!(percentiles(&bins), vec![wait(6, 45.0, 315.0, 10), wait(8, 75.0, 75.0, 1)]);
    }
}
