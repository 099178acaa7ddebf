//! Entries of billing: tariffs and financing rules, published before they apply.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::EntryBody;

/// `tariff.published` v1: a tariff file, as validated, applies to transfers logged after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TariffPublished {
    pub tariff: Value,
    /// SHA-256 (hex) of the file's RFC 8785 form.
    pub tariff_sha256: String,
    pub recorded_by: String,
}
entry_body!(TariffPublished, "tariff.published", 1);

/// `financing.published` v1: a financing rule, as validated, applies to lines logged after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinancingPublished {
    pub rule: Value,
    pub rule_sha256: String,
    pub recorded_by: String,
}
entry_body!(FinancingPublished, "financing.published", 1);

/// `billing.hold_placed` v1: the operator put a participant's billing standing on hold
/// (unpaid invoices…): its transfers as the paying party are denied until cleared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillingHoldPlaced {
    pub siren: String,
    pub reason: String,
    pub recorded_by: String,
}
entry_body!(BillingHoldPlaced, "billing.hold_placed", 1);

/// `billing.hold_cleared` v1: the participant's billing standing is restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillingHoldCleared {
    pub siren: String,
    pub reason: String,
    pub recorded_by: String,
}
entry_body!(BillingHoldCleared, "billing.hold_cleared", 1);
