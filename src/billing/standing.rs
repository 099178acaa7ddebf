//! Billing standing: the operator puts a participant on hold (unpaid invoices, a lapsed
//! agreement with the platform) or clears it; both are logged. Decisions deny transfers
//! whose paying party (the contract's assignee) is on hold, and say why.

use crate::entry::{BillingHoldCleared, BillingHoldPlaced};
use crate::journal::LogReceipt;
use crate::trust::TrustFailure;
use crate::trust::service::TrustService;
use crate::trust::siret::Siren;

/// Place (`hold = true`) or clear a billing hold on a registered participant.
pub async fn set_hold(
    trust: &TrustService,
    siren: &str,
    hold: bool,
    reason: &str,
    operator: &str,
) -> Result<LogReceipt, TrustFailure> {
    let siren = Siren::parse(siren)?.to_string();
    if reason.trim().is_empty() || reason.chars().count() > 500 {
        return Err(TrustFailure::Input(
            "reason must be between 1 and 500 characters".into(),
        ));
    }
    let _guard = trust.lock_changes().await?;
    if trust.store().participant(&siren).await?.is_none() {
        return Err(TrustFailure::NotFound(format!(
            "no participant with SIREN {siren}"
        )));
    }
    let current = trust.store().billing_hold(&siren).await?;
    let now = crate::clock::now();
    let (reason, operator) = (reason.to_owned(), operator.to_owned());
    let appended = match (hold, current) {
        (true, Some((_, index))) => {
            return Err(TrustFailure::Conflict(format!(
                "{siren} is already on billing hold (log index {index})"
            )));
        }
        (false, None) => {
            return Err(TrustFailure::Conflict(format!(
                "{siren} is not on billing hold"
            )));
        }
        (true, None) => {
            trust
                .journal()
                .append(
                    now,
                    &BillingHoldPlaced {
                        siren,
                        reason,
                        recorded_by: operator,
                    },
                )
                .await?
        }
        (false, Some(_)) => {
            trust
                .journal()
                .append(
                    now,
                    &BillingHoldCleared {
                        siren,
                        reason,
                        recorded_by: operator,
                    },
                )
                .await?
        }
    };
    Ok(appended.1)
}
