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
}
