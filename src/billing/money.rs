//! Amounts in integer cents of euro. Parsing accepts at most two decimals; nothing is ever
//! a float.

/// Parse `"12"`, `"12.5"` or `"12.50"` (non-negative) into cents.
pub fn parse_cents(text: &str) -> Option<i64> {
    let text = text.trim();
    let (units, fraction) = match text.split_once('.') {
        Some((units, fraction)) => (units, fraction),
        None => (text, ""),
    };
    if units.is_empty()
        || units.len() > 15
        || fraction.len() > 2
        || !units
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let units: i64 = units.parse().ok()?;
    let fraction: i64 = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<i64>().ok()? * 10,
        _ => fraction.parse().ok()?,
    };
    units.checked_mul(100)?.checked_add(fraction)
}

/// Cents as a decimal string with two decimals (`-` for negative amounts).
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Parse a percentage with at most two decimals (`"50"`, `"12.5"`) into basis points.
pub fn parse_basis_points(text: &str) -> Option<u32> {
    let cents = parse_cents(text)?;
    u32::try_from(cents).ok().filter(|bp| *bp <= 10_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_round_trip_exactly() {
        assert_eq!(parse_cents("12"), Some(1200));
        assert_eq!(parse_cents("12.5"), Some(1250));
        assert_eq!(parse_cents("0.07"), Some(7));
        assert_eq!(format_cents(1250), "12.50");
        assert_eq!(format_cents(-7), "-0.07");
        for bad in ["", "-1", "1.234", "1e3", "1,50", ".5", "abc"] {
            assert_eq!(parse_cents(bad), None, "{bad}");
        }
        assert_eq!(parse_basis_points("50"), Some(5000));
        assert_eq!(parse_basis_points("100.01"), None);
    }
}
