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

/// One participant's statement as closed: its hash and totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosedStatement {
    pub siren: String,
    /// SHA-256 (hex) of the statement's RFC 8785 JSON, as `GET /v1/billing/statements` serves it.
    pub sha256: String,
    pub gross_cents: i64,
    pub financed_cents: i64,
    pub participant_cents: i64,
}

/// `billing.period_closed` v1: the period's statements are final. Their figures follow from
/// the entries logged before the period's end; later corrections are credit notes in a
/// later period, never edits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillingPeriodClosed {
    /// `YYYY-MM`.
    pub period: String,
    pub statements: Vec<ClosedStatement>,
    pub gross_cents: i64,
    pub financed_cents: i64,
    pub participant_cents: i64,
    pub recorded_by: String,
}
entry_body!(BillingPeriodClosed, "billing.period_closed", 1);

/// `billing.credit_issued` v1: a line of a closed period is cancelled by a credit note in
/// the period this entry is logged in: the line's amounts come back to each financer and
/// to the participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillingCreditIssued {
    pub credit_id: String,
    pub siren: String,
    /// The closed period (`YYYY-MM`) of the line corrected.
    pub corrected_period: String,
    /// The transfer whose line is cancelled.
    pub transfer_id: String,
    /// A reason code (`disputed-volume`, `service-failure`, …), never free text.
    pub reason: String,
    pub recorded_by: String,
}
entry_body!(BillingCreditIssued, "billing.credit_issued", 1);
