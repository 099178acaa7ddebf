//! The three ways to a mandate, and revoking them.
//!
//! (a) An officer signs in with ProConnect's `certification-dirigeant` level and receives an
//! officer mandate with every power. (b) A mandated person with delegation depth left grants
//! a sub-mandate to another ProConnect identity (by e-mail), which takes effect when that
//! person signs in for the same SIREN. (c) For public bodies and associations, which the
//! officer certification does not cover, the operator records the délibération or arrêté
//! de délégation (its hash only in the log) and the mandate is issued at the grantee's
//! sign-in. Revoking a mandate revokes every mandate derived from it.
//!
//! Everything issued is logged as `credential.issued`, with salted commitments instead of
//! people; the credentials themselves, which name people, stay in the private tables.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::TrustFailure;
use super::legal_category::{self, OrganisationClass};
use super::powers;
use super::proconnect::{ACR_CERTIFIED_OFFICER, Identity, LOGIN_TTL};
use super::service::{TrustService, commitment, new_salt};
use super::sirene::CompanyFacts;
use super::siret::Siret;
use super::status::LIST_BITS;
use super::verifier::{VerifiedCredential, json_sha256};
use crate::entry::{
    CredentialIssued, CredentialRevoked, MandateGranted, StatusPosition, encode, format_time,
};
use crate::journal::LogReceipt;
use crate::store::StoreError;
use crate::store::trust::{GrantRecord, PendingLogin, Person};

/// The organisation as the caller may see it.
#[derive(Debug, Clone, Serialize)]
pub struct OrganisationSummary {
    pub siren: String,
    pub siret: String,
    pub legal_name: String,
    pub legal_category: String,
    pub class: OrganisationClass,
}

/// A mandate just issued.
#[derive(Debug, Clone, Serialize)]
pub struct MandateSummary {
    pub id: String,
    pub basis: String,
    pub valid_until: String,
    pub max_delegation_depth: u32,
    pub powers: Value,
}

/// What a completed sign-in produced.
#[derive(Debug, Clone, Serialize)]
pub struct SignInOutcome {
    pub organisation: OrganisationSummary,
    /// The signed credentials, for the holder's wallet.
    pub credentials: Vec<Value>,
    pub mandates: Vec<MandateSummary>,
    /// Plain-language notes (why no mandate was issued, for instance).
    pub notes: Vec<String>,
    pub log: Vec<LogReceipt>,
}

/// A grant recorded ahead of the grantee's sign-in.
#[derive(Debug, Clone, Serialize)]
pub struct GrantOutcome {
    pub grant_id: String,
    pub siren: String,
    pub valid_until: String,
    pub powers: Value,
    pub log: LogReceipt,
}

/// A sub-mandate request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DelegationRequest {
    /// Presentation of the grantor's mandate, bound to a challenge.
    pub presentation: Value,
    pub grantee_email: String,
    /// ODRL Set of the powers passed on (within the grantor's).
    pub powers: Value,
    pub max_delegation_depth: u32,
    pub valid_until: DateTime<Utc>,
}

/// An operator-recorded délibération or arrêté de délégation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliberationRequest {
    pub siret: String,
    pub grantee_email: String,
    /// SHA-256 of the signed délibération or arrêté, lowercase hex.
    pub document_sha256: String,
    /// ODRL Set of the powers granted; every power when absent.
    pub powers: Option<Value>,
    pub max_delegation_depth: u32,
    pub valid_until: DateTime<Utc>,
}

/// Who revokes.
#[derive(Debug, Clone)]
pub enum Revoker {
    Operator(String),
    /// A presentation of the mandate itself or of one it derives from.
    Holder(Value),
}

pub(crate) const MANDATE: &str = "MandateCredential";
const ORGANISATION: &str = "OrganisationCredential";

fn check_email(email: &str) -> Result<String, TrustFailure> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(email)
    } else {
        Err(TrustFailure::Input(format!(
            "grantee_email {email:?} is not an e-mail address"
        )))
    }
}

fn check_sha256(field: &str, value: &str) -> Result<(), TrustFailure> {
    if value.len() == 64
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        Ok(())
    } else {
        Err(TrustFailure::Input(format!(
            "{field} must be 64 lowercase hexadecimal digits"
        )))
    }
}

/// Take a free position in one of this service's status lists.
async fn allocate_status(svc: &TrustService) -> Result<(String, u64), TrustFailure> {
    for n in 1..=64u32 {
        let list = format!("revocation-{n}");
        match svc.store().allocate_status_index(&list, LIST_BITS).await {
            Ok(index) => return Ok((list, index)),
            Err(StoreError::Conflict(_)) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(TrustFailure::Conflict("every status list is full".into()))
}

/// A credential signed and its `credential.issued` entry, not yet appended.
struct Issued {
    credential: Value,
    entry: Vec<u8>,
}

struct MandateSpec<'a> {
    siren: &'a str,
    legal_name: &'a str,
    holder: &'a str,
    person: &'a Person,
    powers: Value,
    max_depth: u32,
    valid_until: DateTime<Utc>,
    basis: &'a str,
    basis_sha256: String,
    parent: Option<String>,
}

async fn issue_mandate(svc: &TrustService, spec: MandateSpec<'_>) -> Result<Issued, TrustFailure> {
    let now = crate::clock::now();
    let id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
    let (list, index) = allocate_status(svc).await?;
    let mut subject = json!({
        "id": spec.holder,
        "actsFor": {"siren": spec.siren, "legalName": spec.legal_name},
        "powers": spec.powers,
        "maxDelegationDepth": spec.max_depth,
        "basis": spec.basis,
        "basisSha256": spec.basis_sha256,
        "person": {
            "proconnectIssuer": spec.person.issuer,
            "idpId": spec.person.idp_id,
            "proconnectSubject": spec.person.subject,
            "emailCommitment": commitment(&spec.person.salt, "email", &spec.person.email),
        },
    });
    if let Some(parent) = &spec.parent {
        subject["parentMandate"] = Value::from(parent.clone());
    }
    let unsigned = svc.issuer().credential_template(
        &id,
        MANDATE,
        now,
        spec.valid_until,
        (&list, index),
        subject,
    );
    let credential = svc.issuer().sign(unsigned).await?;
    svc.store()
        .save_issued_credential(&id, Some(&spec.person.id), Some(spec.holder), &credential)
        .await?;
    let entry = encode(
        now,
        &CredentialIssued {
            credential_id: id,
            credential_type: MANDATE.into(),
            credential_sha256: json_sha256(&credential),
            siren: spec.siren.to_owned(),
            holder_commitment: Some(commitment(&spec.person.salt, "holder", spec.holder)),
            basis: spec.basis.to_owned(),
            basis_sha256: spec.basis_sha256,
            parent_credential_id: spec.parent,
            powers: Some(spec.powers),
            max_delegation_depth: Some(spec.max_depth),
            status: StatusPosition {
                list: svc.issuer().status_list_url(&list),
                index,
            },
            valid_from: format_time(now),
            valid_until: format_time(spec.valid_until),
            anchors_version: svc.anchors_version(),
        },
    )?;
    Ok(Issued { credential, entry })
}

async fn issue_organisation(
    svc: &TrustService,
    facts: &CompanyFacts,
) -> Result<Issued, TrustFailure> {
    let now = crate::clock::now();
    let id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
    let (list, index) = allocate_status(svc).await?;
    let valid_until = now + Duration::days(i64::from(svc.settings().organisation_credential_days));
    let subject = json!({
        "type": "Organisation",
        "siren": facts.siren.as_str(),
        "siret": facts.siret.as_str(),
        "legalName": facts.legal_name,
        "legalCategory": facts.legal_category,
        "organisationClass": facts.class.as_str(),
        "publicBody": facts.class == OrganisationClass::PublicBody,
        "administrativeStatus": "active",
        "checkedAt": format_time(facts.checked_at),
        "evidenceSource": "INSEE Sirene API v3.11",
        "evidenceSha256": facts.evidence_sha256,
    });
    let unsigned = svc.issuer().credential_template(
        &id,
        ORGANISATION,
        now,
        valid_until,
        (&list, index),
        subject,
    );
    let credential = svc.issuer().sign(unsigned).await?;
    svc.store()
        .save_issued_credential(&id, None, None, &credential)
        .await?;
    let entry = encode(
        now,
        &CredentialIssued {
            credential_id: id,
            credential_type: ORGANISATION.into(),
            credential_sha256: json_sha256(&credential),
            siren: facts.siren.to_string(),
            holder_commitment: None,
            basis: "sirene".into(),
            basis_sha256: facts.evidence_sha256.clone(),
            parent_credential_id: None,
            powers: None,
            max_delegation_depth: None,
            status: StatusPosition {
                list: svc.issuer().status_list_url(&list),
                index,
            },
            valid_from: format_time(now),
            valid_until: format_time(valid_until),
            anchors_version: svc.anchors_version(),
        },
    )?;
    Ok(Issued { credential, entry })
}

/// What a pending sign-in is for: a page session rather than mandates.
pub const PAGE_SIGN_IN: &str = "page";

/// Start a ProConnect sign-in for `holder` (the DID of the person's key, to which the
/// mandates will be bound). Returns the provider URL to send the browser to.
pub async fn start_sign_in(
    svc: &TrustService,
    holder: &str,
    login_hint: Option<&str>,
) -> Result<String, TrustFailure> {
    svc.proconnect().ok_or(TrustFailure::NotConfigured)?;
    if !(holder.starts_with("did:key:") || holder.starts_with("did:jwk:")) {
        return Err(TrustFailure::Input(
            "holder must be the did:key or did:jwk of the key that will present the mandate".into(),
        ));
    }
    svc.verifier()
        .dids()
        .document(holder)
        .await
        .map_err(|e| TrustFailure::Input(format!("holder: {e}")))?;
    begin_sign_in(svc, Some(holder), "mandate", login_hint).await
}

/// Start a ProConnect sign-in that opens a page session (no key, no credentials issued);
/// `login_hint` (an e-mail address) pre-fills the provider's form.
pub async fn start_page_sign_in(
    svc: &TrustService,
    login_hint: Option<&str>,
) -> Result<String, TrustFailure> {
    begin_sign_in(svc, None, PAGE_SIGN_IN, login_hint).await
}

async fn begin_sign_in(
    svc: &TrustService,
    holder: Option<&str>,
    purpose: &str,
    login_hint: Option<&str>,
) -> Result<String, TrustFailure> {
    let proconnect = svc.proconnect().ok_or(TrustFailure::NotConfigured)?;
    let anchors = svc.anchors();
    let anchor = anchors
        .openid_provider(proconnect.issuer(), crate::clock::now())
        .ok_or_else(|| {
            TrustFailure::Credential(super::verifier::VerifyError::Untrusted(
                super::anchors::TrustError::NotTrusted(proconnect.issuer().to_owned()),
            ))
        })?;
    let authorization = proconnect.authorize(&anchor.acr_values, login_hint).await?;
    svc.store()
        .save_login(&PendingLogin {
            state: authorization.state,
            nonce: authorization.nonce,
            code_verifier: authorization.code_verifier,
            holder: holder.map(str::to_owned),
            purpose: purpose.to_owned(),
            created_at_ms: crate::clock::now().timestamp_millis(),
        })
        .await?;
    Ok(authorization.url)
}

/// Finish a ProConnect sign-in (the callback): check everything, then issue credentials.
pub async fn finish_sign_in(
    svc: &TrustService,
    state: &str,
    code: &str,
    issuer: Option<&str>,
) -> Result<SignInOutcome, TrustFailure> {
    let (login, identity) = verify_sign_in(svc, state, code, issuer).await?;
    let holder = login
        .holder
        .ok_or_else(|| TrustFailure::Input("sign-in started without a holder".into()))?;
    issue_after_sign_in(svc, &identity, &holder).await
}

/// The callback's checks (state, expiry, issuer, tokens): the pending sign-in, used up,
/// and the identity the provider asserted.
pub async fn verify_sign_in(
    svc: &TrustService,
    state: &str,
    code: &str,
    issuer: Option<&str>,
) -> Result<(PendingLogin, Identity), TrustFailure> {
    use super::proconnect::ProConnectError;
    let proconnect = svc.proconnect().ok_or(TrustFailure::NotConfigured)?;
    let login = svc
        .store()
        .take_login(state)
        .await?
        .ok_or(ProConnectError::UnknownState)?;
    let now = crate::clock::now();
    if now.timestamp_millis() - login.created_at_ms > LOGIN_TTL.as_millis() as i64 {
        return Err(ProConnectError::Expired.into());
    }
    if let Some(issuer) = issuer
        && issuer != proconnect.issuer()
    {
        return Err(ProConnectError::WrongIssuer {
            found: issuer.to_owned(),
            expected: proconnect.issuer().to_owned(),
        }
        .into());
    }
    let anchors = svc.anchors();
    let anchor = anchors
        .openid_provider(proconnect.issuer(), now)
        .ok_or_else(|| TrustFailure::Mandate("the OpenID provider is no longer trusted".into()))?;
    let identity = proconnect
        .finish(
            code,
            &login.code_verifier,
            &login.nonce,
            &anchor.acr_values,
            now,
        )
        .await?;
    Ok((login, identity))
}

/// What a verified ProConnect identity earns: an organisation credential, and the mandates
/// its evidence supports (officer certification, pending grants).
pub async fn issue_after_sign_in(
    svc: &TrustService,
    identity: &Identity,
    holder: &str,
) -> Result<SignInOutcome, TrustFailure> {
    let siret = Siret::parse(&identity.siret)?;
    let (facts, _) = svc.active_establishment(&siret).await?;
    let existing = svc
        .store()
        .person_by_subject(&identity.issuer, &identity.subject)
        .await?;
    let person = svc
        .store()
        .upsert_person(&Person {
            id: existing
                .as_ref()
                .map(|p| p.id.clone())
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            issuer: identity.issuer.clone(),
            subject: identity.subject.clone(),
            idp_id: identity.idp_id.clone(),
            email: identity.email.to_lowercase(),
            given_name: identity.given_name.clone(),
            usual_name: identity.usual_name.clone(),
            salt: existing.map(|p| p.salt).unwrap_or_else(new_salt),
        })
        .await?;
    let _guard = svc.lock_changes().await?;
    let siren = facts.siren.to_string();
    let mut issued = vec![issue_organisation(svc, &facts).await?];
    let mut mandates = Vec::new();
    let mut notes = Vec::new();
    let now = crate::clock::now();

    if identity.acr == ACR_CERTIFIED_OFFICER {
        if legal_category::officer_certification_covers(&facts.legal_category) {
            let credential_uid = format!("urn:uuid:{}#powers", uuid::Uuid::new_v4());
            let powers = powers::all_powers(&credential_uid, &siren);
            let valid_until = now + Duration::days(i64::from(svc.settings().officer_mandate_days));
            let depth = svc.settings().officer_delegation_depth;
            let mandate = issue_mandate(
                svc,
                MandateSpec {
                    siren: &siren,
                    legal_name: &facts.legal_name,
                    holder,
                    person: &person,
                    powers: powers.clone(),
                    max_depth: depth,
                    valid_until,
                    basis: "officer",
                    basis_sha256: identity.id_token_sha256.clone(),
                    parent: None,
                },
            )
            .await?;
            mandates.push(summary(&mandate, "officer", valid_until, depth, powers));
            issued.push(mandate);
        } else {
            notes.push(format!(
                "ProConnect's officer certification does not cover catégorie juridique {} ({}); \
                 a mandate needs the operator to record the délibération or arrêté de délégation",
                facts.legal_category,
                legal_category::label(&facts.legal_category).unwrap_or("unknown")
            ));
        }
    }

    for grant in svc.store().open_grants(&siren, &person.email).await? {
        match claimable(svc, &grant, now).await? {
            Err(reason) => notes.push(format!("grant {} not usable: {reason}", grant.id)),
            Ok((valid_until, basis_sha256)) => {
                let mandate = issue_mandate(
                    svc,
                    MandateSpec {
                        siren: &siren,
                        legal_name: &facts.legal_name,
                        holder,
                        person: &person,
                        powers: grant.powers.clone(),
                        max_depth: grant.max_delegation_depth,
                        valid_until,
                        basis: &grant.kind,
                        basis_sha256,
                        parent: grant.parent_credential_id.clone(),
                    },
                )
                .await?;
                let id = mandate
                    .credential
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                if svc.store().claim_grant(&grant.id, &id).await? {
                    mandates.push(summary(
                        &mandate,
                        &grant.kind,
                        valid_until,
                        grant.max_delegation_depth,
                        grant.powers.clone(),
                    ));
                    issued.push(mandate);
                }
            }
        }
    }
    if mandates.is_empty() && notes.is_empty() {
        notes.push(
            "no mandate: sign in with ProConnect's officer certification, or ask a mandated \
             person (or, for public bodies and associations, the operator) to grant one"
                .into(),
        );
    }
    let (credentials, entries): (Vec<Value>, Vec<Vec<u8>>) =
        issued.into_iter().map(|i| (i.credential, i.entry)).unzip();
    let log = svc.journal().append_raw(entries).await?;
    Ok(SignInOutcome {
        organisation: OrganisationSummary {
            siren,
            siret: facts.siret.to_string(),
            legal_name: facts.legal_name.clone(),
            legal_category: facts.legal_category.clone(),
            class: facts.class,
        },
        credentials,
        mandates,
        notes,
        log,
    })
}

fn summary(
    issued: &Issued,
    basis: &str,
    valid_until: DateTime<Utc>,
    depth: u32,
    powers: Value,
) -> MandateSummary {
    MandateSummary {
        id: issued
            .credential
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        basis: basis.to_owned(),
        valid_until: format_time(valid_until),
        max_delegation_depth: depth,
        powers,
    }
}

/// Can this grant be turned into a mandate now? Its validity (capped by its parent's) and
/// the evidence hash, or why not.
async fn claimable(
    svc: &TrustService,
    grant: &GrantRecord,
    now: DateTime<Utc>,
) -> Result<Result<(DateTime<Utc>, String), String>, TrustFailure> {
    let until = DateTime::parse_from_rfc3339(&grant.valid_until)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| TrustFailure::Store(StoreError::Corrupt("grant validity".into())))?;
    if until <= now {
        return Ok(Err("it has expired".into()));
    }
    match &grant.parent_credential_id {
        None => Ok(Ok((
            until,
            grant.document_sha256.clone().unwrap_or_default(),
        ))),
        Some(parent) => {
            let Some(record) = svc.store().credential(parent).await? else {
                return Ok(Err("its parent mandate is unknown".into()));
            };
            if record.revoked_index.is_some() {
                return Ok(Err("its parent mandate was revoked".into()));
            }
            let parent_until = DateTime::parse_from_rfc3339(&record.valid_until)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or(now);
            if parent_until <= now {
                return Ok(Err("its parent mandate has expired".into()));
            }
            Ok(Ok((until.min(parent_until), record.sha256)))
        }
    }
}

/// The mandate in a verified presentation, held by the presentation's holder.
pub fn presented_mandate<'a>(
    credentials: &'a [VerifiedCredential],
    holder: &str,
) -> Result<&'a VerifiedCredential, TrustFailure> {
    let mandate = credentials
        .iter()
        .find(|c| c.has_type(MANDATE))
        .ok_or_else(|| {
            TrustFailure::Mandate("the presentation holds no MandateCredential".into())
        })?;
    if mandate.subject.get("id").and_then(Value::as_str) != Some(holder) {
        return Err(TrustFailure::Mandate(
            "the mandate is bound to another key than the one that signed the presentation".into(),
        ));
    }
    Ok(mandate)
}

/// The salted commitment to the mandate holder's e-mail (empty when the mandate has none).
pub fn email_commitment(mandate: &VerifiedCredential) -> &str {
    mandate
        .subject
        .get("person")
        .and_then(|p| p.get("emailCommitment"))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The SIREN a mandate acts for.
pub fn mandate_siren(mandate: &VerifiedCredential) -> Result<String, TrustFailure> {
    mandate
        .subject
        .get("actsFor")
        .and_then(|a| a.get("siren"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| TrustFailure::Mandate("the mandate names no SIREN (actsFor.siren)".into()))
}

/// Grant a sub-mandate, on the presentation of the grantor's own mandate.
pub async fn grant_delegation(
    svc: &TrustService,
    request: DelegationRequest,
) -> Result<GrantOutcome, TrustFailure> {
    let email = check_email(&request.grantee_email)?;
    let presentation = svc.verify_bound_presentation(&request.presentation).await?;
    let parent = presented_mandate(&presentation.credentials, &presentation.holder)?;
    if parent.issuer != svc.issuer().did() {
        return Err(TrustFailure::Mandate(
            "sub-mandates derive from mandates issued by this clearing house".into(),
        ));
    }
    let parent_id = parent
        .id
        .clone()
        .ok_or_else(|| TrustFailure::Mandate("the mandate has no id".into()))?;
    let siren = mandate_siren(parent)?;
    let depth = parent
        .subject
        .get("maxDelegationDepth")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    if depth == 0 {
        return Err(TrustFailure::Mandate(
            "the mandate has no delegation depth left: it cannot be delegated".into(),
        ));
    }
    if u64::from(request.max_delegation_depth) >= depth {
        return Err(TrustFailure::Mandate(format!(
            "a sub-mandate's delegation depth must be below the grantor's ({depth}); \
             asked for {}",
            request.max_delegation_depth
        )));
    }
    let now = crate::clock::now();
    let parent_until = parent
        .document
        .get("validUntil")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now);
    if request.valid_until <= now || request.valid_until > parent_until {
        return Err(TrustFailure::Input(format!(
            "valid_until must be in the future and no later than the grantor's mandate ({})",
            format_time(parent_until)
        )));
    }
    let parent_powers = parent
        .subject
        .get("powers")
        .cloned()
        .ok_or_else(|| TrustFailure::Mandate("the mandate carries no powers".into()))?;
    let grant_id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
    let powers = powers::restrict(
        &request.powers,
        &parent_powers,
        &siren,
        &format!("{grant_id}#powers"),
    )?;
    let _guard = svc.lock_changes().await?;
    record_grant(
        svc,
        GrantRecord {
            id: grant_id,
            kind: "delegation".into(),
            siren,
            grantee_email: email,
            powers,
            max_delegation_depth: request.max_delegation_depth,
            valid_until: format_time(request.valid_until),
            parent_credential_id: Some(parent_id),
            document_sha256: None,
            salt: new_salt(),
            claimed_credential_id: None,
        },
        &presentation.holder,
    )
    .await
}

/// Record a délibération (public bodies, associations) granting a mandate.
pub async fn record_deliberation(
    svc: &TrustService,
    request: DeliberationRequest,
    operator: &str,
) -> Result<GrantOutcome, TrustFailure> {
    let email = check_email(&request.grantee_email)?;
    check_sha256("document_sha256", &request.document_sha256)?;
    let siret = Siret::parse(&request.siret)?;
    if request.valid_until <= crate::clock::now() {
        return Err(TrustFailure::Input(
            "valid_until must be in the future".into(),
        ));
    }
    let (facts, _) = svc.active_establishment(&siret).await?;
    if legal_category::officer_certification_covers(&facts.legal_category) {
        return Err(TrustFailure::Input(format!(
            "catégorie juridique {} is covered by ProConnect's officer certification: its \
             officers get their mandate by signing in; délibérations are for public bodies \
             and associations",
            facts.legal_category
        )));
    }
    let siren = facts.siren.to_string();
    let grant_id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
    let uid = format!("{grant_id}#powers");
    let all = powers::all_powers(&uid, &siren);
    let powers = match &request.powers {
        Some(requested) => powers::restrict(requested, &all, &siren, &uid)?,
        None => all,
    };
    let _guard = svc.lock_changes().await?;
    record_grant(
        svc,
        GrantRecord {
            id: grant_id,
            kind: "deliberation".into(),
            siren,
            grantee_email: email,
            powers,
            max_delegation_depth: request.max_delegation_depth,
            valid_until: format_time(request.valid_until),
            parent_credential_id: None,
            document_sha256: Some(request.document_sha256),
            salt: new_salt(),
            claimed_credential_id: None,
        },
        operator,
    )
    .await
}

async fn record_grant(
    svc: &TrustService,
    grant: GrantRecord,
    recorded_by: &str,
) -> Result<GrantOutcome, TrustFailure> {
    svc.store().save_grant(&grant).await?;
    let entry = encode(
        crate::clock::now(),
        &MandateGranted {
            grant_id: grant.id.clone(),
            kind: grant.kind.clone(),
            siren: grant.siren.clone(),
            grantee_commitment: commitment(&grant.salt, "email", &grant.grantee_email),
            parent_credential_id: grant.parent_credential_id.clone(),
            document_sha256: grant.document_sha256.clone(),
            powers: grant.powers.clone(),
            max_delegation_depth: grant.max_delegation_depth,
            valid_until: grant.valid_until.clone(),
            // A holder's DID identifies a person: record a commitment, not the DID.
            recorded_by: if recorded_by.starts_with("did:") {
                commitment(&grant.salt, "grantor", recorded_by)
            } else {
                recorded_by.to_owned()
            },
            anchors_version: svc.anchors_version(),
        },
    )?;
    let mut receipts = svc.journal().append_raw(vec![entry]).await?;
    let log = receipts
        .pop()
        .ok_or_else(|| TrustFailure::Input("nothing was logged".into()))?;
    Ok(GrantOutcome {
        grant_id: grant.id,
        siren: grant.siren,
        valid_until: grant.valid_until,
        powers: grant.powers,
        log,
    })
}

/// Revoke an issued credential and, for a mandate, every mandate derived from it.
pub async fn revoke(
    svc: &TrustService,
    credential_id: &str,
    reason: &str,
    by: Revoker,
) -> Result<Vec<LogReceipt>, TrustFailure> {
    if reason.trim().is_empty() || reason.len() > 500 {
        return Err(TrustFailure::Input(
            "reason must be between 1 and 500 characters".into(),
        ));
    }
    let recorded_by = match by {
        Revoker::Operator(label) => label,
        Revoker::Holder(presentation) => {
            let verified = svc.verify_bound_presentation(&presentation).await?;
            let mandate = presented_mandate(&verified.credentials, &verified.holder)?;
            let presented_id = mandate.id.clone().unwrap_or_default();
            // The holder may revoke their own mandate or any mandate derived from it.
            let mut cursor = Some(credential_id.to_owned());
            let mut allowed = false;
            while let Some(id) = cursor {
                if id == presented_id {
                    allowed = true;
                    break;
                }
                cursor = svc.store().credential(&id).await?.and_then(|c| c.parent_id);
            }
            if !allowed {
                return Err(TrustFailure::Mandate(
                    "only the operator, the holder, or the holder of a mandate it derives from \
                     may revoke it"
                        .into(),
                ));
            }
            commitment(presented_id.as_bytes(), "revoker", &verified.holder)
        }
    };
    let _guard = svc.lock_changes().await?;
    let target = svc
        .store()
        .credential(credential_id)
        .await?
        .ok_or_else(|| {
            TrustFailure::NotFound(format!("no credential {credential_id} was issued here"))
        })?;
    if target.revoked_index.is_some() {
        return Err(TrustFailure::Conflict(format!(
            "credential {credential_id} is already revoked"
        )));
    }
    let mut revoked = vec![(target, None)];
    let mut frontier = vec![credential_id.to_owned()];
    while let Some(parent) = frontier.pop() {
        for child in svc.store().credential_children(&parent).await? {
            if child.revoked_index.is_none() {
                frontier.push(child.id.clone());
                revoked.push((child, Some(credential_id.to_owned())));
            }
        }
    }
    let now = crate::clock::now();
    let version = svc.anchors_version();
    let entries = revoked
        .into_iter()
        .map(|(record, cascade_from)| {
            encode(
                now,
                &CredentialRevoked {
                    credential_id: record.id,
                    status: StatusPosition {
                        list: record.status_list,
                        index: record.status_index,
                    },
                    reason: reason.to_owned(),
                    cascade_from,
                    recorded_by: recorded_by.clone(),
                    anchors_version: version.clone(),
                },
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(svc.journal().append_raw(entries).await?)
}
