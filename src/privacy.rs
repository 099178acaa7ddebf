//! Erasing a person (GDPR right to erasure, retention limits).
//!
//! The log never holds personal data, only salted commitments (`trust::service::commitment`).
//! Erasure deletes the private side: the person's record and its salt, the full credentials
//! issued to them (they name the person), and the address and salt of mandates granted to
//! them. Their credentials still in force are revoked first, so an erased person can no
//! longer act. What stays in the log is the commitments, which nobody can link to the
//! person any more; every entry, proof and bundle still verifies. The erasure itself is
//! logged (`privacy.erased`) with those commitments and counts, and no personal data.

use serde::Deserialize;

use crate::entry::PrivacyErased;
use crate::journal::LogReceipt;
use crate::trust::TrustFailure;
use crate::trust::mandates::{self, Revoker};
use crate::trust::service::{TrustService, commitment};

/// Why a person is erased.
pub const ERASURE_REASONS: [&str; 2] = ["right-to-erasure", "retention-limit"];

/// A request to erase a person.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    pub email: String,
    pub reason: String,
}

/// Erase the person with this e-mail address; returns the logged entry.
pub async fn erase(
    svc: &TrustService,
    request: &ErasureRequest,
    operator: &str,
) -> Result<(PrivacyErased, LogReceipt), TrustFailure> {
    if !ERASURE_REASONS.contains(&request.reason.as_str()) {
        return Err(TrustFailure::Input(format!(
            "reason: one of {}",
            ERASURE_REASONS.join(", ")
        )));
    }
    if !request.email.contains('@') || request.email.len() > 320 {
        return Err(TrustFailure::Input("email: an e-mail address".into()));
    }
    let records = svc.store().private_records(&request.email).await?;
    if records.is_empty() {
        return Err(TrustFailure::NotFound(
            "no person or mandate grant is recorded for this address".into(),
        ));
    }
    // Revoke what the person still holds, so that they can no longer act.
    for id in &records.credentials {
        match svc.store().credential(id).await? {
            Some(record) if record.revoked_index.is_none() => {
                mandates::revoke(svc, id, &request.reason, Revoker::Operator(operator.into()))
                    .await?;
            }
            _ => {}
        }
    }
    let mut commitments: Vec<String> = records
        .persons
        .iter()
        .chain(&records.grants)
        .map(|(_, email, salt)| commitment(salt, "email", email))
        .collect();
    commitments.sort();
    commitments.dedup();
    let body = PrivacyErased {
        commitments,
        persons: records.persons.len() as u64,
        credentials: records.credentials.len() as u64,
        grants: records.grants.len() as u64,
        reason: request.reason.clone(),
        recorded_by: operator.to_owned(),
    };
    // Logged first: an erasure that happened is never missing from the log. If deleting
    // then fails, the same request erases what is left (and is logged again).
    let receipt = svc.journal().append(crate::clock::now(), &body).await?.1;
    svc.store().erase_private_records(&records).await?;
    Ok((body, receipt))
}
