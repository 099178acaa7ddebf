//! Demo data: a small, realistic history for a fresh embedded instance, so a newcomer sees
//! a populated log, participants and figures at once. Seeded only into an empty log, so a
//! restart with the same data directory keeps (and does not duplicate) what is there.

use chrono::{Duration, Utc};
use sha2::{Digest, Sha256};

use crate::entry::{GovernanceKind, GovernanceRecorded};
use crate::http::AppState;
use crate::journal::JournalError;

/// Seed the demo history if the log is empty. Returns the number of entries written.
pub async fn seed(state: &AppState) -> Result<u64, JournalError> {
    if state.journal.reader().head().head.size > 0 {
        return Ok(0);
    }
    let now = Utc::now();
    let records = [
        (
            GovernanceKind::Deliberation,
            "CTD deliberation 2026-01: adoption of the data-space charter",
            "CTD-2026-01",
            120,
        ),
        (
            GovernanceKind::Minutes,
            "Minutes of the CTD meeting of 12 March 2026",
            "CTD-PV-2026-03-12",
            90,
        ),
        (
            GovernanceKind::OperatorDecision,
            "Operator decision: clearing-house tariffs for 2026",
            "OP-2026-007",
            60,
        ),
        (
            GovernanceKind::Notice,
            "Notice to participants: witness network opened to partner data spaces",
            "NOTICE-2026-02",
            30,
        ),
    ];
    let mut written = 0;
    for (kind, title, reference, days_ago) in records {
        let document = format!("{title} ({reference})");
        let body = GovernanceRecorded {
            kind,
            title: title.to_owned(),
            document_sha256: hex::encode(Sha256::digest(document.as_bytes())),
            reference: Some(reference.to_owned()),
            recorded_by: "demo-operator".to_owned(),
        };
        state
            .journal
            .append(now - Duration::days(days_ago), &body)
            .await?;
        written += 1;
    }
    Ok(written)
}
