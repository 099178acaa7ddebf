//! Exact decimal numbers for amounts and numeric constraints.
//!
//! `payAmount` must be compared exactly (`0.1 + 0.2` is not `0.3` in binary floating point,
//! and a clearing house that bills must not round). xsd:decimal lexical forms are parsed into
//! an `i128` mantissa and a decimal scale; comparison aligns the scales. Eighteen integer and
//! eighteen fractional digits are accepted, so aligning never overflows an `i128`.

use std::cmp::Ordering;
use std::fmt;

/// Most digits accepted on either side of the decimal point.
const MAX_DIGITS_EACH_SIDE: usize = 18;

/// An exact decimal number: `mantissa × 10^-scale`.
#[derive(Debug, Clone, Copy)]
pub struct Decimal {
    mantissa: i128,
    scale: u32,
}

impl Decimal {
    /// Parse an xsd:decimal (or xsd:integer) lexical form: optional sign, digits, optional
    /// fraction. Exponents (`1e3`) are not xsd:decimal and are refused.
    pub fn parse(text: &str) -> Option<Decimal> {
        let text = text.trim();
        let (negative, unsigned) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (integer, fraction) = match unsigned.split_once('.') {
            Some((integer, fraction)) => (integer, fraction),
            None => (unsigned, ""),
        };
        if integer.is_empty() && fraction.is_empty()
            || integer.len() > MAX_DIGITS_EACH_SIDE
            || fraction.len() > MAX_DIGITS_EACH_SIDE
            || !integer
                .bytes()
                .chain(fraction.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let mut mantissa: i128 = 0;
        for digit in integer.bytes().chain(fraction.bytes()) {
            mantissa = mantissa * 10 + i128::from(digit - b'0');
        }
        let scale = u32::try_from(fraction.len()).ok()?;
        Some(Decimal {
            mantissa: if negative { -mantissa } else { mantissa },
            scale,
        })
    }

    /// A whole number.
    pub fn from_integer(value: u64) -> Decimal {
        Decimal {
            mantissa: i128::from(value),
            scale: 0,
        }
    }

    /// The value as a non-negative whole number, if it is one.
    pub fn to_u64(self) -> Option<u64> {
        let normal = self.normalised();
        if normal.scale != 0 {
            return None;
        }
        u64::try_from(normal.mantissa).ok()
    }

    /// The sum of two decimals (used to total several payments); `None` on overflow.
    pub fn checked_add(self, other: Decimal) -> Option<Decimal> {
        let scale = self.scale.max(other.scale);
        let left = self
            .mantissa
            .checked_mul(10i128.checked_pow(scale - self.scale)?)?;
        let right = other
            .mantissa
            .checked_mul(10i128.checked_pow(scale - other.scale)?)?;
        Some(Decimal {
            mantissa: left.checked_add(right)?,
            scale,
        })
    }

    /// The same value without trailing fractional zeros (`5.00` → `5`).
    fn normalised(self) -> Decimal {
        let mut normal = self;
        while normal.scale > 0 && normal.mantissa % 10 == 0 {
            normal.mantissa /= 10;
            normal.scale -= 1;
        }
        normal
    }
}

impl PartialEq for Decimal {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Decimal {}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        // Both mantissas have at most 36 digits once aligned (18 + 18), below i128::MAX.
        let scale = self.scale.max(other.scale);
        let widen = |d: &Decimal| d.mantissa * 10i128.pow(scale - d.scale);
        widen(self).cmp(&widen(other))
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.mantissa.unsigned_abs().to_string();
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let scale = self.scale as usize;
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (integer, fraction) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{integer}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_exactly_across_scales() {
        let d = |s| Decimal::parse(s).unwrap();
        assert_eq!(d("5.00"), d("5"));
        assert!(d("0.1") < d("0.10000000000000001"));
        assert!(d("-1.5") < d("1"));
        assert!(d("999999999999999999.999999999999999999") > d("1"));
    }

    #[test]
    fn refuses_what_is_not_xsd_decimal() {
        for bad in [
            "",
            "-",
            ".",
            "1e3",
            "1.2.3",
            "abc",
            "1 000",
            "1234567890123456789",
        ] {
            assert!(Decimal::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn prints_as_written() {
        assert_eq!(Decimal::parse("5.00").unwrap().to_string(), "5.00");
        assert_eq!(Decimal::parse("-0.05").unwrap().to_string(), "-0.05");
        assert_eq!(Decimal::parse(".5").unwrap().to_string(), "0.5");
    }
}
