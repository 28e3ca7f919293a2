//! Money as the mart counts it: the rounding rule of `mart.round_cents` (mart migration 0004)
//! in whole cents ([`round_cents`], with its integer shortcut [`within_shortcut`]), and a
//! month's passenger totals per licence counted by it ([`PassengerTotals`]).
//!
//! Declared here because two stages count by it: the loader counts each month as it reads the
//! Parquet rows (`raw.load_totals`), and atl-mart counts the same month again as it reads the
//! warehouse's rows, cleans them into the fact, and checks that nothing was lost or doubled.

/// `mart.round_cents`' integer shortcut (mart migration 0004; atl-mart's warehouse_count states
/// it in SQL): where it holds, the rule's value is `round(x * 100)` cents. False for NaN and
/// the infinities.
pub fn within_shortcut(x: f64) -> bool {
    let hundred = x * 100.0;
    x.abs() < SHORTCUT_BOUND && (hundred - hundred.round_ties_even()).abs() < SHORTCUT_DISTANCE
}

/// The shortcut's bounds: values under 1e7 in absolute value, within 0.49 of a whole number of
/// cents. atl-mart's warehouse_count writes them into its SQL, and checks the mart's definition
/// states the same.
pub const SHORTCUT_BOUND: f64 = 1e7;
pub const SHORTCUT_DISTANCE: f64 = 0.49;

/// `mart.round_cents(x)` in cents: `round(x::numeric, 2)`, where `x::numeric` is x's
/// 15-significant-digit decimal form and the rounding is half away from zero, with the same
/// integer shortcut for values within 0.49 of a whole number of cents. `None` for NaN, the
/// infinities and |x| >= 1e13 (not a clean row's values).
pub fn round_cents(x: f64) -> Option<i64> {
    // The stream rounds every money value of every fact row: the shortcut's one rounding
    // first, not within_shortcut's and a second one (two calls of libm's rint).
    if let Some(cents) = shortcut_cents(x) {
        return Some(cents);
    }
    if !x.is_finite() || x.abs() >= 1e13 {
        return None;
    }
    // d.dddddddddddddde±E: 15 significant digits, as PostgreSQL's float8 -> numeric.
    let text = format!("{:.14e}", x.abs());
    let (mantissa, exponent) = text.split_once('e')?;
    let digits: u128 = mantissa.replace('.', "").parse().ok()?;
    let exponent: i32 = exponent.parse().ok()?;
    // x = digits * 10^(exponent - 14), cents = digits * 10^(exponent - 12).
    let shift = exponent - 12;
    let cents = if shift >= 0 {
        digits * 10u128.pow(shift as u32)
    } else if -shift > 30 {
        0
    } else {
        let unit = 10u128.pow((-shift) as u32);
        digits / unit + u128::from(2 * (digits % unit) >= unit)
    };
    let cents = i64::try_from(cents).ok()?;
    Some(if x < 0.0 { -cents } else { cents })
}

/// The cents of `x` where the rule's integer shortcut holds ([`within_shortcut`]): then
/// `round(x * 100)`; `None` beyond it.
pub fn shortcut_cents(x: f64) -> Option<i64> {
    // within_shortcut's test, rounding once: the count calls this for every money value, and
    // `round_ties_even` is a call to libm's rint on x86-64 without SSE4.1 (2.6 % of the
    // loader's samples on a high-volume month). Adding and taking away 1.5 * 2^52 rounds
    // half to even too, exactly, for any |hundred| < 2^51: beyond (|x| >= 1e7) the shortcut
    // does not hold anyway.
    const ROUNDER: f64 = 6_755_399_441_055_744.0;
    let hundred = x * 100.0;
    let cents = (hundred + ROUNDER) - ROUNDER;
    (x.abs() < SHORTCUT_BOUND && (hundred - cents).abs() < SHORTCUT_DISTANCE).then_some(cents as i64)
}

/// One licence's rows of a month and the sum of their passenger totals, in cents (each money
/// value rounded by the rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenceTotal {
    /// `None`: rows without licence, or a kind of one service.
    pub licence: Option<String>,
    pub rows: i64,
    pub cents: i128,
}

impl LicenceTotal {
    /// The total in dollars as a numeric's text (`-12.05`).
    pub fn dollars(&self) -> String {
        let sign = if self.cents < 0 { "-" } else { "" };
        let abs = self.cents.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

/// A month's rows and passenger totals per licence, counted in whole cents where every value
/// is within the rule's shortcut: a value beyond it (rare: TLC charges are whole cents) leaves
/// the month uncounted ([`PassengerTotals::counted`] is `None`), for a count by the rule itself.
#[derive(Debug, Clone, Default)]
pub struct PassengerTotals {
    licences: Vec<LicenceTotal>,
    uncounted: bool,
    /// The licence added last: rows of one licence come in runs.
    last: usize,
}

impl PassengerTotals {
    /// Adds `rows` rows of `licence` whose passenger totals sum to `cents`. A month holds a
    /// handful of licences: the last one added is tried first, then each in turn.
    pub fn add(&mut self, licence: Option<&[u8]>, rows: i64, cents: i128) {
        let same = |t: &LicenceTotal| t.licence.as_deref().map(str::as_bytes) == licence;
        // A licence that is not UTF-8 (a SQL_ASCII warehouse) could not be kept as it is: the
        // month is left uncounted, for the warehouse server to count.
        if licence.is_some_and(|l| std::str::from_utf8(l).is_err()) {
            self.uncounted = true;
            return;
        }
        let at = match self.licences.get(self.last) {
            Some(t) if same(t) => Some(self.last),
            _ => self.licences.iter().position(same),
        };
        match at {
            Some(at) => {
                let t = &mut self.licences[at];
                t.rows += rows;
                t.cents += cents;
                self.last = at;
            }
            None => {
                self.last = self.licences.len();
                self.licences.push(LicenceTotal {
                    licence: licence.map(|l| String::from_utf8_lossy(l).into_owned()),
                    rows,
                    cents,
                });
            }
        }
    }

    /// Adds one value of a passenger total to a row's cents, or marks the month uncounted;
    /// returns whether the value was counted (within the rule's shortcut).
    pub fn add_value(&mut self, row_cents: &mut i128, x: f64) -> bool {
        let Some(c) = shortcut_cents(x) else {
            self.uncounted = true;
            return false;
        };
        *row_cents += i128::from(c);
        true
    }

    /// Marks the month uncounted: a value beyond the rule's shortcut, or not of the type counted.
    pub fn mark_uncounted(&mut self) {
        self.uncounted = true;
    }

    pub fn merge(&mut self, other: PassengerTotals) {
        for t in other.licences {
            self.add(t.licence.as_deref().map(str::as_bytes), t.rows, t.cents);
        }
        self.uncounted |= other.uncounted;
    }

    /// Every licence's figures, by licence (`None` first), or `None` when a value was beyond
    /// the rule's shortcut.
    pub fn counted(&self) -> Option<Vec<LicenceTotal>> {
        if self.uncounted {
            return None;
        }
        let mut licences = self.licences.clone();
        licences.sort_by(|a, b| a.licence.cmp(&b.licence));
        Some(licences)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_cents_rounds_the_fifteen_digit_form_half_away_from_zero() {
        assert_eq!(round_cents(12.34), Some(1234));
        assert_eq!(round_cents(-0.0), Some(0));
        assert_eq!(round_cents(0.125), Some(13));
        assert_eq!(round_cents(-0.125), Some(-13));
        // 2.675 is 2.67499999999999982236431605997495353221893310546875 as a double; its
        // 15-digit form is 2.67500000000000, which rounds up.
        assert_eq!(round_cents(2.675), Some(268));
        assert_eq!(round_cents(1.004999), Some(100));
        assert_eq!(round_cents(9999.995), Some(1_000_000));
        assert_eq!(round_cents(f64::NAN), None);
    }

    /// Where the shortcut holds, whole cents are the rule's value; where it does not, the
    /// warehouse's count in whole cents could differ from the rule by a cent.
    #[test]
    fn the_shortcut_holds_only_where_whole_cents_are_the_rules_value() {
        for x in [12.34, -0.0, 1.0048, 9999.99, -3.33, 9_999_999.99] {
            assert!(within_shortcut(x), "{x}");
            assert_eq!(round_cents(x), Some((x * 100.0).round_ties_even() as i64), "{x}");
        }
        for x in [0.125, -0.125, 1.005, 1.004999, 2.675, -3.335, 1e7, f64::NAN, f64::INFINITY] {
            assert!(!within_shortcut(x), "{x}");
        }
        // Beyond it the two differ: 0.125 is 12.5 cents, the rule rounds away from zero.
        assert_ne!(round_cents(0.125), Some((0.125f64 * 100.0).round_ties_even() as i64));
    }

    #[test]
    fn shortcut_cents_are_whole_cents_rounded_half_to_even_within_the_shortcut() {
        let mut x = 1.0e-3_f64;
        let mut seen = 0;
        while x < 2.0e7 {
            for v in [x, -x, x + 0.005, -(x + 0.005), (x * 100.0).round() / 100.0] {
                let expected = within_shortcut(v).then(|| (v * 100.0).round_ties_even() as i64);
                assert_eq!(shortcut_cents(v), expected, "{v}");
                seen += usize::from(expected.is_some());
            }
            x *= 1.000_37;
        }
        assert!(seen > 50_000, "{seen}");
        for v in [f64::NAN, f64::INFINITY, -f64::INFINITY, 1e300, 0.125] {
            assert_eq!(shortcut_cents(v), None, "{v}");
        }
    }

    #[test]
    fn passenger_totals_add_up_per_licence_and_refuse_a_value_beyond_the_shortcut() {
        let mut a = PassengerTotals::default();
        let mut row = 0;
        a.add_value(&mut row, 12.34);
        a.add_value(&mut row, -0.05);
        a.add(Some(b"HV0003"), 1, row);
        a.add(None, 2, 7);
        let mut b = PassengerTotals::default();
        b.add(Some(b"HV0003"), 3, -10_000);
        a.merge(b);
        let counted = a.counted().expect("every value within the shortcut");
        assert_eq!(
            counted.iter().map(|t| (t.licence.as_deref(), t.rows)).collect::<Vec<_>>(),
            [(None, 2), (Some("HV0003"), 4)]
        );
        assert_eq!(counted[1].dollars(), "-87.71");
        assert_eq!(counted[0].dollars(), "0.07");
        a.add_value(&mut row, 0.125);
        assert_eq!(a.counted(), None);
        let mut b = PassengerTotals::default();
        b.add(Some(b"HV0003"), 1, 5);
        b.add(Some(&[0xff, 0x41]), 1, 5);
        assert_eq!(b.counted(), None, "a licence that is not UTF-8 leaves the month uncounted");
    }
}
