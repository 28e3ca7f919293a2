//! Numbers as people read them: thousands separators, money, percentages.

/// `1234567` → `1,234,567`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A float rounded to an integer, with separators: axis ticks.
pub fn thousands_f(v: f64) -> String {
    thousands(v.round() as i64)
}

/// `$1,234,568` for large amounts, `$18.42` below a thousand.
pub fn money(v: f64) -> String {
    if v.abs() >= 1000.0 {
        let s = thousands_f(v);
        match s.strip_prefix('-') {
            Some(rest) => format!("-${rest}"),
            None => format!("${s}"),
        }
    } else {
        format!("${v:.2}")
    }
}

/// A ratio as a percentage: `0.2134` → `21.3 %`.
pub fn percent(ratio: f64) -> String {
    format!("{:.1} %", ratio * 100.0)
}

/// A measured value with separators and at most `decimals` decimals, trailing zeros dropped:
/// `1234.5` → `1,234.5`, `-0.5` → `-0.5`, `3.0` → `3`.
pub fn decimal(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let text = format!("{:.*}", decimals, v.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let frac = frac.trim_end_matches('0');
    let int: i64 = int.parse().unwrap_or(i64::MAX);
    let sign = if v < 0.0 && (int != 0 || !frac.is_empty()) { "-" } else { "" };
    let int = thousands(int);
    if frac.is_empty() { format!("{sign}{int}") } else { format!("{sign}{int}.{frac}") }
}

/// An axis tick: `12k`, `1.5M`, `0.25`.
pub fn compact(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{}G", decimal(v / 1e9, 1))
    } else if a >= 1e6 {
        format!("{}M", decimal(v / 1e6, 1))
    } else if a >= 1e4 {
        format!("{}k", decimal(v / 1e3, 1))
    } else {
        decimal(v, 2)
    }
}

/// A small ratio as a percentage, precise enough to tell a few rows from none:
/// `0` → `0 %`, `0.000012` → `0.0012 %`, `0.2134` → `21.34 %`.
pub fn rate(ratio: f64) -> String {
    if ratio == 0.0 {
        return "0 %".into();
    }
    let pct = ratio * 100.0;
    let decimals = if pct >= 1.0 { 2 } else { (2 - pct.log10().floor() as i64).clamp(2, 6) as usize };
    format!("{} %", decimal(pct, decimals))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_every_three_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(-1234567), "-1,234,567");
        assert_eq!(thousands(40_123_456_789), "40,123,456,789");
    }

    #[test]
    fn money_and_percent() {
        assert_eq!(money(18.4249), "$18.42");
        assert_eq!(money(1234567.8), "$1,234,568");
        assert_eq!(money(-2500.0), "-$2,500");
        assert_eq!(percent(0.2134), "21.3 %");
    }

    #[test]
    fn decimals_compact_and_rates() {
        assert_eq!(decimal(1234.5, 2), "1,234.5");
        assert_eq!(decimal(-0.5, 2), "-0.5");
        assert_eq!(decimal(3.0, 2), "3");
        assert_eq!(decimal(-0.001, 2), "0");
        assert_eq!(decimal(1234567.891, 2), "1,234,567.89");
        assert_eq!(compact(12_500.0), "12.5k");
        assert_eq!(compact(2_000_000.0), "2M");
        assert_eq!(compact(0.25), "0.25");
        assert_eq!(rate(0.0), "0 %");
        assert_eq!(rate(0.2134), "21.34 %");
        assert_eq!(rate(0.000012), "0.0012 %");
        assert_eq!(rate(1.0), "100 %");
    }
}
