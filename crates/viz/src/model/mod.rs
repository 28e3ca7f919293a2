//! The figures the pages show, as named structs: what the queries ([`crate::query`]) read
//! into and the charts ([`crate::chart`]) and pages ([`crate::page`]) draw from. No SQL and
//! no drawing here: a figure is named once, by a field, and read by that name everywhere.

pub mod dashboard;
pub mod eda;
pub mod for_hire;
pub mod kpi;
pub mod market;
pub mod reference;

pub use dashboard::{
    Aggregates, BoroughTipRate, CongestionMonth, DailyTrips, FareByDistance, HourWeekday, MIN_TRIPS_FOR_RATE,
    MonthRevenue, MonthRows, PaymentShare, RejectReason, Service, ZoneTrips, previous_period, service_label,
};
pub use for_hire::{ForHire, ForHireMonth, ServiceMonthTrips, WaitBin, WaitByHour};
pub use kpi::{ChangeKind, Kpi, Totals, kpis};
pub use market::{BoroughShares, Market, Rival, Shares, ZoneServiceTrips, ZoneShares, any_for_hire};
pub use reference::{FLAG_ABOVE, Reference, Release, TlcRow, ZoneMeasure, ZoneShape, deviation};
