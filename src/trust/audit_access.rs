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
use super::mandates::{MANDATE, mandate_siren, presented_mandate};
use super::powers;
use super::proconnect::Identity;
use super::service::{TrustService, commitment, new_salt};
use super::siret::Siret;
use crate::entry::format_time;
use crate::ledger::storage::LogStorage;
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

/// A page session for a person who signed in with ProConnect: granted only when this
/// service issued them a live mandate with `read-audit` on the organisation they signed in
/// for. The person proved who they are to ProConnect just now; the mandate ties that person
/// to the power. Its `credential.issued` entry must commit to the same person and key (the
/// salted holder commitment is recomputed), so the stored link is checked against the log.
/// As with presentations, the session covers the whole log for committee members and the
/// organisation's own entries for anyone else, and its label names the mandate. Returns the
/// session and the end of the mandate's validity, beyond which the session must not last.
pub async fn page_session(
    svc: &TrustService,
    identity: &Identity,
    committee_sirens: &[String],
) -> Result<(AuditSession, DateTime<Utc>), TrustFailure> {
    let siren = Siret::parse(&identity.siret)?.siren().as_str().to_owned();
    let no_mandate = || {
        TrustFailure::Mandate(format!(
            "the pages need a live read-audit mandate for SIREN {siren}, issued by this \
             service to the person signed in; none was found (sign in for mandates at \
             /v1/auth/proconnect/login, or ask the organisation's officer to delegate \
             read-audit)"
        ))
    };
    let person = svc
        .store()
        .person_by_subject(&identity.issuer, &identity.subject)
        .await?
        .ok_or_else(no_mandate)?;
    let now = crate::clock::now();
    let context = json!({"dateTime": format_time(now)});
    for (id, holder, credential) in svc.store().credentials_issued_to(&person.id).await? {
        let Some(record) = svc.store().credential(&id).await? else {
            continue;
        };
        let Ok(until) = DateTime::parse_from_rfc3339(&record.valid_until) else {
            continue;
        };
        let until = until.with_timezone(&Utc);
        let live = record.credential_type == MANDATE
            && record.siren == siren
            && record.revoked_index.is_none()
            && until > now;
        let grants = credential
            .pointer("/credentialSubject/powers")
            .is_some_and(|p| powers::check(p, powers::READ_AUDIT, &siren, &context).is_ok());
        if !(live && grants) {
            continue;
        }
        let Some(holder) = holder else { continue };
        let expected = commitment(&person.salt, "holder", &holder);
        if logged_holder_commitment(svc, record.issued_index).await? != Some(expected) {
            return Err(TrustFailure::Mandate(format!(
                "mandate {id}'s log entry does not commit to the person signed in"
            )));
        }
        let whole_log = committee_sirens.contains(&siren);
        let session = AuditSession {
            label: page_label(&siren, &id, whole_log),
            siren: (!whole_log).then_some(siren),
        };
        return Ok((session, until));
    }
    Err(no_mandate())
}

/// A page session's label: its kind, the SIREN and the mandate, never the person.
pub fn page_label(siren: &str, mandate_id: &str, whole_log: bool) -> String {
    let kind = if whole_log {
        PAGE_COMMITTEE_PREFIX
    } else {
        PAGE_MEMBER_PREFIX
    };
    format!("{kind}{siren} read-audit mandate {mandate_id}")
}

/// Label prefixes of ProConnect page sessions (whole log, organisation's own entries).
pub const PAGE_COMMITTEE_PREFIX: &str = "page-proconnect-committee:";
pub const PAGE_MEMBER_PREFIX: &str = "page-proconnect:";

/// The holder commitment recorded by the `credential.issued` entry at `index`.
async fn logged_holder_commitment(
    svc: &TrustService,
    index: u64,
) -> Result<Option<String>, TrustFailure> {
    let bytes = svc
        .journal()
        .reader()
        .storage()
        .entries(index, index + 1)
        .await
        .map_err(|e| {
            TrustFailure::Mandate(format!("the mandate's log entry is unreadable: {e}"))
        })?;
    let Some(bytes) = bytes.first() else {
        return Ok(None);
    };
    match crate::entry::decode(bytes).map(|d| d.entry) {
        Ok(crate::entry::Entry::CredentialIssued(issued)) => Ok(issued.holder_commitment),
        _ => Ok(None),
    }
}
