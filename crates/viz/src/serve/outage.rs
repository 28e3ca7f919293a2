//! While the mart is unreachable, every visitor gets the 503 page at once. Without this, a
//! request waits its turn behind the renders (one per pooled connection), and each render
//! waits the pool's acquire timeout for a server that is not there: under 50 concurrent
//! requests the last ones waited past the request timeout and got an empty 408. Once a
//! render finds the mart unreachable, the requests of the next [`RECHECK_AFTER`] are
//! answered without trying it, and those already queued are answered as their turn comes;
//! the first request after that tries the mart again.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a finding of "unreachable" is trusted before a request tries the mart again.
pub const RECHECK_AFTER: Duration = Duration::from_secs(5);

/// When a render last found the mart unreachable, if the one after it has not reached it.
#[derive(Debug, Default)]
pub struct Outage {
    since: Mutex<Option<Instant>>,
}

impl Outage {
    /// Whether a render found the mart unreachable less than [`RECHECK_AFTER`] ago.
    pub fn is_recent(&self) -> bool {
        let since = self.since.lock().unwrap_or_else(|e| e.into_inner());
        since.is_some_and(|at| at.elapsed() < RECHECK_AFTER)
    }

    /// Records what a render found.
    pub fn record(&self, unreachable: bool) {
        *self.since.lock().unwrap_or_else(|e| e.into_inner()) = unreachable.then(Instant::now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_is_trusted_for_a_while_and_cleared_by_a_success() {
        let outage = Outage::default();
        assert!(!outage.is_recent());
        outage.record(true);
        assert!(outage.is_recent());
        outage.record(false);
        assert!(!outage.is_recent());
        *outage.since.lock().unwrap() = Some(Instant::now() - RECHECK_AFTER);
        assert!(!outage.is_recent(), "after RECHECK_AFTER the mart is tried again");
    }
}
