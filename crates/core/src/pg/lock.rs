//! Every advisory lock key the pipeline takes, in one list so that no two uses share a key
//! by accident. PostgreSQL keeps one-`bigint` keys and two-`int` keys apart, so
//! [`load_month`]'s pairs cannot meet the others.
//!
//! The SQL files psql users run take some of these keys as literals (a file cannot read a
//! Rust constant); the crate that embeds each file checks it names the key declared here.

use crate::{TripKind, YearMonth};

/// "ATL" in ASCII, shifted: held (per session) around a schema's migrations on either server,
/// so two binaries starting together on a fresh server neither both record version 1 nor race.
pub const SCHEMA: i64 = 0x0041_544c_0000;

/// Held by an `atl-mart build` run for its whole length (per session): a second run waits,
/// then finds the months built, and cannot restage the zones under the first.
pub const MART_RUN: i64 = 4_281_420;

/// Serialises month builds on a mart server, which has one staging table: held by atl-mart
/// while it fills the staging table (per session) and by `sql/mart/insertion.sql` and
/// `insertion_for_hire.sql` (per transaction).
pub const MART_BUILD: i64 = 4_281_421;

/// The key of one kind and month on the warehouse (`pg_advisory_xact_lock(int, int)`): one
/// loader of a month at a time, and the cleanup of a failed load's parts under it.
pub fn load_month(kind: TripKind, month: YearMonth) -> (i32, i32) {
    (0x41544c + kind as i32, month.id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_single_keys_differ() {
        assert_ne!(SCHEMA, MART_RUN);
        assert_ne!(SCHEMA, MART_BUILD);
        assert_ne!(MART_RUN, MART_BUILD);
    }

    #[test]
    fn each_kind_and_month_has_its_own_load_key() {
        let month: YearMonth = "2023-01".parse().unwrap();
        let keys: Vec<(i32, i32)> = TripKind::ALL.iter().map(|k| load_month(*k, month)).collect();
        for (i, key) in keys.iter().enumerate() {
            assert!(!keys[i + 1..].contains(key), "{key:?} twice");
        }
        assert_eq!(load_month(TripKind::Yellow, month).1, 202301);
        assert_ne!(load_month(TripKind::Yellow, month), load_month(TripKind::Yellow, month.next()));
    }
}
