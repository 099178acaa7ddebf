//! A tariff: what the platform charges for its service, as a versioned JSON file under
//! `policies/tariffs/`, published to the log (`tariff.published`) before it applies.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::BillingError;
use super::money::{parse_basis_points, parse_cents};

/// The file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TariffFile {
    id: String,
    version: u32,
    title: String,
    currency: String,
    valid_from: String,
    #[serde(default)]
    valid_until: Option<String>,
    /// VAT rate in percent, e.g. `"20"`; `"0"` with `vat_exemption` for exempt services.
    vat_percent: String,
    #[serde(default)]
    vat_exemption: Option<String>,
    /// The exemption's VATEX code (CEF code list), e.g. `VATEX-EU-132`, for invoices.
    #[serde(default)]
    vat_exemption_code: Option<String>,
    /// Per permitted and completed transfer.
    per_transfer: String,
    /// Per 10^9 bytes transferred, prorated to the byte.
    per_gb: String,
    /// Per billing period (calendar month), charged when the participant transferred.
    subscription_per_period: String,
    /// Transfers per participant and period that are not charged.
    free_transfers_per_period: u32,
    /// Classes of organisation charged nothing (`public-body`, `association`…).
    #[serde(default)]
    exempt_classes: Vec<String>,
}

/// A validated tariff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tariff {
    pub id: String,
    pub version: u32,
    pub title: String,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    pub vat_bp: u32,
    pub vat_exemption: Option<String>,
    pub vat_exemption_code: Option<String>,
    pub per_transfer_cents: i64,
    pub per_gb_cents: i64,
    pub subscription_cents: i64,
    pub free_transfers: u32,
    pub exempt_classes: Vec<String>,
}

fn time(file: &str, field: &str, text: &str) -> Result<DateTime<Utc>, BillingError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            invalid(
                file,
                format!("{field} {text:?} is not an RFC 3339 date-time"),
            )
        })
}

fn invalid(file: &str, reason: String) -> BillingError {
    BillingError::Invalid {
        file: file.to_owned(),
        reason,
    }
}

fn cents(file: &str, field: &str, text: &str) -> Result<i64, BillingError> {
    parse_cents(text).ok_or_else(|| {
        invalid(
            file,
            format!("{field} {text:?} is not an amount in euros with at most two decimals"),
        )
    })
}

const CLASSES: [&str; 4] = ["public-body", "company", "association", "sole-trader"];

impl Tariff {
    /// Parse and validate a tariff file (`name` is used in error messages).
    pub fn from_json(name: &str, value: &Value) -> Result<Tariff, BillingError> {
        let file: TariffFile =
            serde_json::from_value(value.clone()).map_err(|e| invalid(name, e.to_string()))?;
        if file.currency != "EUR" {
            return Err(invalid(
                name,
                format!("currency {:?}: only EUR", file.currency),
            ));
        }
        if file.id.is_empty() || file.version == 0 {
            return Err(invalid(
                name,
                "id must be set and version at least 1".into(),
            ));
        }
        let vat_bp = parse_basis_points(&file.vat_percent).ok_or_else(|| {
            invalid(
                name,
                format!("vat_percent {:?} is not 0–100", file.vat_percent),
            )
        })?;
        if vat_bp == 0 && file.vat_exemption.is_none() {
            return Err(invalid(
                name,
                "a 0 % VAT rate needs vat_exemption (the legal ground, e.g. CGI art. 261)".into(),
            ));
        }
        if file
            .vat_exemption_code
            .as_deref()
            .is_some_and(|c| !c.starts_with("VATEX-") || c.len() > 30)
        {
            return Err(invalid(
                name,
                "vat_exemption_code must be a VATEX code, e.g. VATEX-EU-132".into(),
            ));
        }
        for class in &file.exempt_classes {
            if !CLASSES.contains(&class.as_str()) {
                return Err(invalid(
                    name,
                    format!(
                        "exempt class {class:?} is not one of {}",
                        CLASSES.join(", ")
                    ),
                ));
            }
        }
        let valid_from = time(name, "valid_from", &file.valid_from)?;
        let valid_until = file
            .valid_until
            .as_deref()
            .map(|t| time(name, "valid_until", t))
            .transpose()?;
        if valid_until.is_some_and(|until| until <= valid_from) {
            return Err(invalid(name, "valid_until must be after valid_from".into()));
        }
        Ok(Tariff {
            per_transfer_cents: cents(name, "per_transfer", &file.per_transfer)?,
            per_gb_cents: cents(name, "per_gb", &file.per_gb)?,
            subscription_cents: cents(
                name,
                "subscription_per_period",
                &file.subscription_per_period,
            )?,
            id: file.id,
            version: file.version,
            title: file.title,
            valid_from,
            valid_until,
            vat_bp,
            vat_exemption: file.vat_exemption,
            vat_exemption_code: file.vat_exemption_code,
            free_transfers: file.free_transfers_per_period,
            exempt_classes: file.exempt_classes,
        })
    }

    /// Whether the tariff is in force at `at`.
    pub fn in_force(&self, at: DateTime<Utc>) -> bool {
        self.valid_from <= at && self.valid_until.is_none_or(|until| at < until)
    }

    /// Price of one transfer of `bytes`: the per-transfer amount plus the per-GB amount
    /// prorated to the byte, rounded half up to the cent.
    pub fn transfer_price(&self, bytes: u64) -> i64 {
        let volume =
            (i128::from(self.per_gb_cents) * i128::from(bytes) + 500_000_000) / 1_000_000_000;
        self.per_transfer_cents + i64::try_from(volume).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn file() -> Value {
        json!({"id": "platform", "version": 1, "title": "Platform 2026", "currency": "EUR",
               "valid_from": "2026-01-01T00:00:00Z", "vat_percent": "20",
               "per_transfer": "0.50", "per_gb": "1.20", "subscription_per_period": "30",
               "free_transfers_per_period": 2, "exempt_classes": ["public-body"]})
    }

    #[test]
    fn prices_are_exact() {
        let tariff = Tariff::from_json("t", &file()).unwrap();
        assert_eq!(tariff.transfer_price(0), 50);
        assert_eq!(tariff.transfer_price(1_000_000_000), 170);
        // 1.20 € × 0.5 GB = 0.60 €; 1.20 € × 4 166 667 B = 0.5 cent → rounds up to 1.
        assert_eq!(tariff.transfer_price(500_000_000), 110);
        assert_eq!(tariff.transfer_price(4_166_667), 51);
    }

    #[test]
    fn invalid_files_are_named() {
        for (field, value, words) in [
            ("currency", json!("USD"), "only EUR"),
            ("per_gb", json!("1.234"), "per_gb"),
            ("vat_percent", json!("0"), "vat_exemption"),
            ("exempt_classes", json!(["ministry"]), "ministry"),
            ("valid_from", json!("tomorrow"), "valid_from"),
        ] {
            let mut bad = file();
            bad[field] = value;
            let error = Tariff::from_json("t.json", &bad).unwrap_err().to_string();
            assert!(
                error.contains(words) && error.starts_with("t.json"),
                "{error}"
            );
        }
    }
}
