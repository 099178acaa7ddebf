//! Entries of the exchange: contracts, payments, pre-transfer decisions and receipts.
//!
//! Agreements between organisations are not personal data and are logged whole, so a
//! decision can be re-evaluated from the log alone. Representatives appear as salted
//! commitments; their detached signatures and mandates are kept privately and logged by
//! hash. Receipts are signed by connector keys (organisations' keys, registered in the
//! log) and logged whole.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{CredentialSeen, EntryBody};

/// A representative's signature of a contract act, as the log records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartySignature {
    /// The party signed for.
    pub siren: String,
    /// `assigner` or `assignee` in the agreement.
    pub role: String,
    /// SHA-256 (hex) of the detached JWS, which is kept with the mandate it relies on.
    pub jws_sha256: String,
    /// When the representative signed (the JWS's `iat`).
    pub signed_at: String,
    /// Salted commitment to the signer (no personal data).
    pub signer_commitment: String,
    /// The mandate relied on, with the status seen.
    pub mandate: CredentialSeen,
}

/// `contract.agreed` v1: an ODRL Agreement both parties signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractAgreed {
    /// The agreement's `uid`.
    pub contract_id: String,
    pub assigner: String,
    pub assignee: String,
    /// The agreement as signed (ODRL JSON-LD).
    pub agreement: Value,
    /// SHA-256 (hex) of the agreement's RFC 8785 form: what both parties signed.
    pub agreement_sha256: String,
    pub signatures: Vec<PartySignature>,
    pub anchors_version: String,
}
entry_body!(ContractAgreed, "contract.agreed", 1);

/// `contract.amended` v1: a new agreement, signed by both parties, supersedes the current one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractAmended {
    pub contract_id: String,
    /// 2 for the first amendment, and so on.
    pub version: u32,
    /// The agreement it replaces.
    pub supersedes_sha256: String,
    pub agreement: Value,
    pub agreement_sha256: String,
    pub signatures: Vec<PartySignature>,
    pub anchors_version: String,
}
entry_body!(ContractAmended, "contract.amended", 1);

/// `contract.terminated` v1: one party ended the contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractTerminated {
    pub contract_id: String,
    /// The agreement in force when it was terminated.
    pub agreement_sha256: String,
    pub reason: String,
    pub signature: PartySignature,
    pub anchors_version: String,
}
entry_body!(ContractTerminated, "contract.terminated", 1);

/// `payment.recorded` v1: the operator records a payment made under a contract's duty
/// (e.g. a pay-per-transfer fee), which the ODRL evaluation then sees as fulfilled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRecorded {
    pub payment_id: String,
    pub contract_id: String,
    /// The duty's uid (or JSON path) in the agreement.
    pub duty: String,
    pub payer: String,
    pub payee: String,
    /// Exact decimal, e.g. `"2.00"`.
    pub amount: String,
    pub currency: String,
    pub paid_at: String,
    /// SHA-256 of the payment evidence (bank statement line, Chorus Pro receipt…).
    pub evidence_sha256: String,
    pub recorded_by: String,
}
entry_body!(PaymentRecorded, "payment.recorded", 1);

/// `decision.made` v1: the answer to a connector's pre-transfer question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionMade {
    pub decision_id: String,
    pub contract_id: String,
    /// The agreement evaluated.
    pub agreement_sha256: String,
    /// SIREN of the participant that asked, and the key it authenticated with.
    pub requester: String,
    pub requester_kid: String,
    pub action: String,
    pub target: String,
    /// `permit` or `deny`.
    pub decision: String,
    /// Why, in plain words, first the deciding reason.
    pub reasons: Vec<String>,
    /// The request context as given (purpose, spatial, recipient…).
    pub context: Value,
    /// Permitted transfers under this contract and target before this one (ODRL `count`).
    pub uses_before: u64,
    pub expires_at: String,
    pub anchors_version: String,
}
entry_body!(DecisionMade, "decision.made", 1);

/// `receipt.recorded` v1: a connector's signed account of a transfer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptRecorded {
    /// The signed receipt (compact JWS by a registered connector key), verifiable from
    /// the log alone with the key its `participant.*` entries registered.
    pub receipt_jws: String,
    pub receipt_sha256: String,
    pub transfer_id: String,
    pub decision_id: String,
    pub contract_id: String,
    /// `provider` (the agreement's assigner) or `consumer` (its assignee).
    pub role: String,
    pub siren: String,
    pub kid: String,
    pub asset: String,
    pub bytes: u64,
    pub records: u64,
    pub content_sha256: String,
    pub started_at: String,
    pub ended_at: String,
    pub anchors_version: String,
}
entry_body!(ReceiptRecorded, "receipt.recorded", 1);

/// `receipt.rejected` v1: a correctly signed receipt the service refused (no valid decision,
/// terminated contract, over its limits…): the attempt stays visible to the audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptRejected {
    pub receipt_sha256: String,
    pub siren: String,
    pub kid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_id: Option<String>,
    pub reason: String,
}
entry_body!(ReceiptRejected, "receipt.rejected", 1);

/// `receipt.mismatch` v1: provider and consumer described the same transfer differently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptMismatch {
    pub transfer_id: String,
    pub contract_id: String,
    pub provider_receipt_sha256: String,
    pub consumer_receipt_sha256: String,
    /// Each field on which they differ, with both values, e.g. `bytes: 1200 ≠ 1100`.
    pub differences: Vec<String>,
}
entry_body!(ReceiptMismatch, "receipt.mismatch", 1);
