//! Opening an audit session with a `read-audit` mandate.
//!
//! A person signs in with ProConnect (OpenID Connect), receives a mandate for their
//! organisation (an officer's, a délibération's or a delegated one) and presents it, bound
//! to one of our challenges. If the mandate grants `read-audit` on that organisation, the
//! service opens a short audit session: over the whole log for the governance committee's
//! member organisations (`auth.committee_sirens`), over the organisation's own entries for
//! anyone else. The session's label names the mandate (its credential id and SIREN), never
//! the person: that is what each `audit.read` entry records.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::TrustFailure;
use super::mandates::{mandate_siren, presented_mandate};
use super::powers;
use super::service::{TrustService, new_salt};
use crate::entry::format_time;
use crate::store::audit::AuditSession;

/// How long an audit session lasts.
pub const SESSION_MINUTES: i64 = 60;

/// An opened session: the bearer token (shown once) and what it allows.
#[derive(Debug, Clone)]
pub struct OpenedSession {
    pub token: String,
    pub session: AuditSession,
    pub expires_at: DateTime<Utc>,
}

/// Verify the presentation and open a session for its `read-audit` mandate.
pub async fn open_session(
    svc: &TrustService,
    presentation: &Value,
    committee_sirens: &[String],
) -> Result<OpenedSession, TrustFailure> {
    let verified = svc.verify_bound_presentation(presentation).await?;
    let mandate = presented_mandate(&verified.credentials, &verified.holder)?;
    let siren = mandate_siren(mandate)?;
    let mandate_powers = mandate
        .subject
        .get("powers")
        .ok_or_else(|| TrustFailure::Mandate("the mandate carries no powers".into()))?;
    let now = crate::clock::now();
    powers::check(
        mandate_powers,
        powers::READ_AUDIT,
        &siren,
        &json!({"dateTime": format_time(now)}),
    )?;
    let whole_log = committee_sirens.contains(&siren);
    let session = AuditSession {
        label: format!(
            "read-audit mandate {} of SIREN {siren}",
            mandate.id.as_deref().unwrap_or(&mandate.sha256)
        ),
        siren: (!whole_log).then_some(siren),
    };
    let token = hex::encode(new_salt());
    // Never beyond the mandate itself.
    let mandate_until = mandate
        .document
        .get("validUntil")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    let expires_at = (now + Duration::minutes(SESSION_MINUTES))
        .min(mandate_until.unwrap_or(DateTime::<Utc>::MAX_UTC));
    svc.store()
        .save_audit_session(
            &hex::encode(Sha256::digest(token.as_bytes())),
            &session,
            expires_at.timestamp_millis(),
            now.timestamp_millis(),
        )
        .await?;
    Ok(OpenedSession {
        token,
        session,
        expires_at,
    })
}
