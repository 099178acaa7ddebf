//! SIREN (legal unit, 9 digits) and SIRET (establishment, 14 digits) numbers.
//!
//! Both end in a Luhn check digit. One exception, from INSEE: the establishments of La Poste
//! (SIREN 356 000 000) are too many for the NIC's range, so their SIRET is valid when the sum
//! of its digits is a multiple of 5; the head office (SIRET 356 000 000 00048) still passes
//! the plain Luhn check.

use std::fmt;

use serde::{Deserialize, Serialize};

/// SIREN of La Poste, whose establishments follow the digit-sum rule.
pub const LA_POSTE_SIREN: &str = "356000000";

/// Why a SIREN or SIRET is not valid. Each says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentifierError {
    #[error("{kind} must be exactly {len} digits (got {got:?})")]
    Format {
        kind: &'static str,
        len: usize,
        got: String,
    },
    #[error("{kind} {value} fails its check digit (Luhn)")]
    Checksum { kind: &'static str, value: String },
}

/// Luhn checksum: doubling every second digit from the right, the sum is a multiple of 10.
fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(*d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn parse_digits(kind: &'static str, len: usize, text: &str) -> Result<Vec<u8>, IdentifierError> {
    // Accept the usual spaced spellings (`356 000 000 00048`), nothing else.
    let compact: String = text.chars().filter(|c| *c != ' ').collect();
    if compact.len() != len || !compact.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IdentifierError::Format {
            kind,
            len,
            got: text.to_owned(),
        });
    }
    Ok(compact.bytes().map(|b| b - b'0').collect())
}

fn digits_to_string(digits: &[u8]) -> String {
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

/// A valid SIREN: the identifier of a legal unit (a participant).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Siren(String);

impl Siren {
    pub fn parse(text: &str) -> Result<Siren, IdentifierError> {
        let digits = parse_digits("SIREN", 9, text)?;
        let value = digits_to_string(&digits);
        if !luhn_valid(&digits) {
            return Err(IdentifierError::Checksum {
                kind: "SIREN",
                value,
            });
        }
        Ok(Siren(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Siren {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Siren {
    type Error = IdentifierError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Siren::parse(&value)
    }
}

impl From<Siren> for String {
    fn from(value: Siren) -> Self {
        value.0
    }
}

/// A valid SIRET: an establishment of a legal unit (what ProConnect reports).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Siret(String);

impl Siret {
    pub fn parse(text: &str) -> Result<Siret, IdentifierError> {
        let digits = parse_digits("SIRET", 14, text)?;
        let value = digits_to_string(&digits);
        let valid = if value.starts_with(LA_POSTE_SIREN) {
            // La Poste: the digit-sum rule, or plain Luhn (its head office).
            digits.iter().map(|d| u32::from(*d)).sum::<u32>() % 5 == 0 || luhn_valid(&digits)
        } else {
            luhn_valid(&digits)
        };
        if !valid {
            return Err(IdentifierError::Checksum {
                kind: "SIRET",
                value,
            });
        }
        Ok(Siret(value))
    }

    /// The legal unit the establishment belongs to: its first nine digits.
    pub fn siren(&self) -> Siren {
        Siren(self.0[..9].to_owned())
    }

    /// The establishment's internal number (NIC): its last five digits.
    pub fn nic(&self) -> &str {
        &self.0[9..]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Siret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Siret {
    type Error = IdentifierError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Siret::parse(&value)
    }
}

impl From<Siret> for String {
    fn from(value: Siret) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_identifiers_are_valid() {
        // Danone (head office), the DINUM, the city of Lyon, La Poste's head office.
        for siret in [
            "55203253400646",
            "13002526500013",
            "21690123100011",
            "35600000000048",
        ] {
            let parsed = Siret::parse(siret).unwrap();
            assert!(Siren::parse(parsed.siren().as_str()).is_ok(), "{siret}");
        }
        assert_eq!(
            Siret::parse("552 032 534 00646").unwrap().siren().as_str(),
            "552032534"
        );
    }

    #[test]
    fn la_poste_establishments_use_the_digit_sum_rule() {
        // Digit sum 3+5+6+0+…+1+2+5+4+9 must be a multiple of 5; Luhn would refuse it.
        let siret = "35600000012549";
        let digits: Vec<u8> = siret.bytes().map(|b| b - b'0').collect();
        assert_eq!(digits.iter().map(|d| u32::from(*d)).sum::<u32>() % 5, 0);
        assert!(!luhn_valid(&digits));
        assert!(Siret::parse(siret).is_ok());
        // Outside La Poste the same trick fails.
        assert!(Siret::parse("35600001012548").is_err());
        // And a La Poste SIRET that meets neither rule is refused.
        assert!(Siret::parse("35600000012547").is_err());
    }

    #[test]
    fn bad_numbers_are_named() {
        assert_eq!(
            Siret::parse("55203253400647"),
            Err(IdentifierError::Checksum {
                kind: "SIRET",
                value: "55203253400647".into()
            })
        );
        assert!(matches!(
            Siren::parse("12345"),
            Err(IdentifierError::Format { kind: "SIREN", .. })
        ));
        assert!(matches!(
            Siret::parse("5520325340064A"),
            Err(IdentifierError::Format { .. })
        ));
        assert!(Siren::parse("552032535").is_err());
    }
}
