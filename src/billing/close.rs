//! Closing a period and correcting it afterwards.
//!
//! Closing logs `billing.period_closed` with the hash and totals of every statement of the
//! period, so an invoice or a grant claim can later be matched to a figure the log fixed.
//! A period closes only once it has ended (its statements can no longer change: they follow
//! from entries logged before its end). After that, a line is corrected only by a credit
//! note (`billing.credit_issued`), which appears in the period it is logged in.

use serde::Deserialize;

use super::publish::statements;
use super::statement::{Month, statement_sha256};
use crate::entry::{BillingCreditIssued, BillingPeriodClosed, ClosedStatement, Entry, decode};
use crate::journal::LogReceipt;
use crate::store::Store;
use crate::trust::TrustFailure;
use crate::trust::service::TrustService;

/// Minutes after a period's end before it may close. An entry is stamped just before it is
/// appended (within a request, so within the 30 s request timeout): waiting longer than
/// that means every entry stamped in the period is in the log before its closing.
pub const CLOSING_GRACE_MINUTES: i64 = 5;

fn computation(error: super::BillingError) -> TrustFailure {
    TrustFailure::Input(error.to_string())
}

/// The closing entry of `period` (index, bytes, body), if it is closed.
pub async fn closing(
    store: &Store,
    period: Month,
) -> Result<Option<(u64, Vec<u8>, BillingPeriodClosed)>, TrustFailure> {
    let wanted = period.to_string();
    for (index, bytes) in store
        .entries_of_types(&["billing.period_closed"], i64::MAX)
        .await?
    {
        let decoded = decode(&bytes)
            .map_err(|e| TrustFailure::Input(format!("log entry {index} does not decode: {e}")))?;
        if let Entry::BillingPeriodClosed(closed) = decoded.entry
            && closed.period == wanted
        {
            return Ok(Some((index, bytes, closed)));
        }
    }
    Ok(None)
}

/// Close `period`: log the hash and totals of each of its statements.
pub async fn close_period(
    trust: &TrustService,
    period: Month,
    operator: &str,
) -> Result<(BillingPeriodClosed, LogReceipt), TrustFailure> {
    let now = crate::clock::now();
    let closes_from = period.end_exclusive() + chrono::Duration::minutes(CLOSING_GRACE_MINUTES);
    if now < closes_from {
        return Err(TrustFailure::Conflict(format!(
            "period {period} closes from {} ({CLOSING_GRACE_MINUTES} minutes after its end)",
            crate::entry::format_time(closes_from)
        )));
    }
    let _guard = trust.lock_changes().await?;
    if let Some((index, _, _)) = closing(trust.store(), period).await? {
        return Err(TrustFailure::Conflict(format!(
            "period {period} is already closed (log entry {index}); correct it with credit notes"
        )));
    }
    let mut body = BillingPeriodClosed {
        period: period.to_string(),
        statements: Vec::new(),
        gross_cents: 0,
        financed_cents: 0,
        participant_cents: 0,
        recorded_by: operator.to_owned(),
    };
    for statement in statements(trust.store(), period, None).await? {
        let financed: i64 = statement.financed_cents.values().sum();
        body.gross_cents += statement.gross_cents;
        body.financed_cents += financed;
        body.participant_cents += statement.participant_cents;
        body.statements.push(ClosedStatement {
            sha256: statement_sha256(&statement).map_err(computation)?,
            siren: statement.siren,
            gross_cents: statement.gross_cents,
            financed_cents: financed,
            participant_cents: statement.participant_cents,
        });
    }
    let receipt = trust.journal().append(now, &body).await?.1;
    Ok((body, receipt))
}

/// Why a line may be cancelled. Codes, not prose: the log is permanent and public to
/// auditors, and free text could name a person.
pub const CREDIT_REASONS: [&str; 5] = [
    "disputed-volume",
    "service-failure",
    "billing-error",
    "duplicate-transfer",
    "commercial-gesture",
];

/// A request for a credit note.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditRequest {
    pub siren: String,
    /// The closed period (`YYYY-MM`) the line belongs to.
    pub period: String,
    pub transfer_id: String,
    pub reason: String,
}

/// Cancel one transfer line of a closed period with a credit note in the current period.
pub async fn issue_credit(
    trust: &TrustService,
    request: &CreditRequest,
    operator: &str,
) -> Result<(BillingCreditIssued, LogReceipt), TrustFailure> {
    let period = Month::parse(&request.period)
        .ok_or_else(|| TrustFailure::Input("period must be YYYY-MM".into()))?;
    let reason = request.reason.as_str();
    if !CREDIT_REASONS.contains(&reason) {
        return Err(TrustFailure::Input(format!(
            "reason: one of {} (a code: free text could name a person, and the log keeps \
             everything)",
            CREDIT_REASONS.join(", ")
        )));
    }
    let _guard = trust.lock_changes().await?;
    if closing(trust.store(), period).await?.is_none() {
        return Err(TrustFailure::Conflict(format!(
            "period {period} is not closed: its statements follow the log until it closes; \
             credit notes correct closed periods only"
        )));
    }
    let billed = statements(trust.store(), period, Some(&request.siren))
        .await?
        .into_iter()
        .flat_map(|s| s.lines)
        .find(|line| {
            line.kind == "transfer" && line.transfer_id.as_deref() == Some(&request.transfer_id)
        });
    match billed {
        None => {
            return Err(TrustFailure::NotFound(format!(
                "no line of SIREN {}'s statement for {period} bills transfer {}",
                request.siren, request.transfer_id
            )));
        }
        Some(line) if line.gross_cents == 0 => {
            return Err(TrustFailure::Conflict(format!(
                "transfer {} was billed nothing ({}): there is nothing to credit",
                request.transfer_id, line.note
            )));
        }
        Some(_) => {}
    }
    for (index, bytes) in trust
        .store()
        .entries_of_types(&["billing.credit_issued"], i64::MAX)
        .await?
    {
        // Fail closed: an entry that does not decode could be the earlier credit.
        let decoded = decode(&bytes)
            .map_err(|e| TrustFailure::Input(format!("log entry {index} does not decode: {e}")))?;
        if let Entry::BillingCreditIssued(earlier) = decoded.entry
            && earlier.transfer_id == request.transfer_id
        {
            return Err(TrustFailure::Conflict(format!(
                "transfer {} was already credited (log entry {index})",
                request.transfer_id
            )));
        }
    }
    let body = BillingCreditIssued {
        credit_id: format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        siren: request.siren.clone(),
        corrected_period: period.to_string(),
        transfer_id: request.transfer_id.clone(),
        reason: reason.to_owned(),
        recorded_by: operator.to_owned(),
    };
    let receipt = trust.journal().append(crate::clock::now(), &body).await?.1;
    Ok((body, receipt))
}
