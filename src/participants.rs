//! Participants: onboarding on a presentation of credentials, connector keys, suspension.
//!
//! A participant is an organisation (SIREN) whose representative presented, bound to a
//! challenge of this service and signed with the key their mandate is bound to, an
//! organisation credential and a mandate with the `manage-keys` power, both from trusted
//! issuers and not revoked. Sirene is asked again at registration (fresh evidence). The
//! log records hashes, issuers, statuses seen and the anchor-set version: no personal data.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::entry::{
    ConnectorKey, ParticipantKeyAdded, ParticipantKeyRevoked, ParticipantRegistered,
    ParticipantReinstated, ParticipantSuspended, encode, format_time,
};
use crate::journal::LogReceipt;
use crate::store::trust::{KeyRecord, ParticipantRecord};
use crate::trust::TrustFailure;
use crate::trust::mandates::{email_commitment, mandate_siren, presented_mandate};
use crate::trust::powers;
use crate::trust::service::TrustService;
use crate::trust::siret::{Siren, Siret};
use crate::trust::verifier::VerifiedPresentation;

/// Most connector keys one request may register.
const MAX_KEYS: usize = 16;

/// RFC 7638 thumbprint of a public JWK (Ed25519 or P-256), base64url.
pub fn jwk_thumbprint(jwk: &Value) -> Result<String, TrustFailure> {
    let field = |name: &str| -> Result<&str, TrustFailure> {
        jwk.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| TrustFailure::Input(format!("connector key lacks `{name}`")))
    };
    if jwk.get("d").is_some() {
        return Err(TrustFailure::Input(
            "connector key contains private key material (`d`): send the public key only".into(),
        ));
    }
    // Members in lexicographic order, no whitespace: RFC 7638 §3.2.
    let canonical = match (field("kty")?, field("crv")?) {
        ("OKP", "Ed25519") => {
            let x = field("x")?;
            if B64URL.decode(x).map(|b| b.len()) != Ok(32) {
                return Err(TrustFailure::Input(
                    "Ed25519 key `x` is not 32 bytes".into(),
                ));
            }
            format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#)
        }
        ("EC", "P-256") => {
            let (x, y) = (field("x")?, field("y")?);
            for coordinate in [x, y] {
                if B64URL.decode(coordinate).map(|b| b.len()) != Ok(32) {
                    return Err(TrustFailure::Input(
                        "P-256 key coordinate is not 32 bytes".into(),
                    ));
                }
            }
            format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#)
        }
        (kty, crv) => {
            return Err(TrustFailure::Input(format!(
                "connector key type {kty}/{crv} is not accepted (Ed25519 or P-256)"
            )));
        }
    };
    Ok(B64URL.encode(Sha256::digest(canonical.as_bytes())))
}

/// Public JWKs → connector keys with their thumbprints (and only the public members).
fn connector_keys(keys: &[Value]) -> Result<Vec<ConnectorKey>, TrustFailure> {
    if keys.len() > MAX_KEYS {
        return Err(TrustFailure::Input(format!(
            "at most {MAX_KEYS} keys at once"
        )));
    }
    keys.iter()
        .map(|jwk| {
            let kid = jwk_thumbprint(jwk)?;
            let mut public = json!({});
            for member in ["kty", "crv", "x", "y"] {
                if let Some(value) = jwk.get(member) {
                    public[member] = value.clone();
                }
            }
            public["kid"] = Value::from(kid.clone());
            Ok(ConnectorKey { kid, jwk: public })
        })
        .collect()
}

/// A participant as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ParticipantView {
    pub siren: String,
    pub siret: String,
    /// Omitted for sole traders, whose legal name is a person's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legal_name: Option<String>,
    pub legal_category: String,
    pub class: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    pub registered_index: u64,
    pub updated_index: u64,
    pub keys: Vec<KeyView>,
}

/// A connector key as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct KeyView {
    pub kid: String,
    pub jwk: Value,
    pub added_index: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_index: Option<u64>,
}

impl From<KeyRecord> for KeyView {
    fn from(key: KeyRecord) -> Self {
        KeyView {
            kid: key.kid,
            jwk: key.jwk,
            added_index: key.added_index,
            revoked_index: key.revoked_index,
        }
    }
}

async fn view(
    svc: &TrustService,
    record: ParticipantRecord,
) -> Result<ParticipantView, TrustFailure> {
    let keys = svc.store().participant_keys(&record.siren).await?;
    let legal_name = if record.class == "sole-trader" {
        None
    } else {
        svc.store().organisation_name(&record.siren).await?
    };
    Ok(ParticipantView {
        legal_name,
        siren: record.siren,
        siret: record.siret,
        legal_category: record.legal_category,
        class: record.class,
        status: record.status,
        status_reason: record.status_reason,
        registered_index: record.registered_index,
        updated_index: record.updated_index,
        keys: keys.into_iter().map(KeyView::from).collect(),
    })
}

/// A participant by SIREN.
pub async fn get(svc: &TrustService, siren: &str) -> Result<ParticipantView, TrustFailure> {
    let siren = Siren::parse(siren)?;
    let record = svc
        .store()
        .participant(siren.as_str())
        .await?
        .ok_or_else(|| TrustFailure::NotFound(format!("no participant with SIREN {siren}")))?;
    view(svc, record).await
}

/// A page of participants in SIREN order after `after`.
pub async fn list(
    svc: &TrustService,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<ParticipantView>, TrustFailure> {
    let mut views = Vec::new();
    for record in svc.store().participants(after, limit).await? {
        views.push(view(svc, record).await?);
    }
    Ok(views)
}

/// Check a presentation for acting on `siren` with `power`; returns the organisation's SIRET
/// from the organisation credential, when there is one.
fn authorise(
    presentation: &VerifiedPresentation,
    power: &str,
    expected_siren: Option<&str>,
) -> Result<(String, Option<String>), TrustFailure> {
    let mandate = presented_mandate(&presentation.credentials, &presentation.holder)?;
    let siren = mandate_siren(mandate)?;
    if let Some(expected) = expected_siren
        && expected != siren
    {
        return Err(TrustFailure::Mandate(format!(
            "the mandate is for SIREN {siren}, not {expected}"
        )));
    }
    let mandate_powers = mandate
        .subject
        .get("powers")
        .ok_or_else(|| TrustFailure::Mandate("the mandate carries no powers".into()))?;
    powers::check(
        mandate_powers,
        power,
        &siren,
        &json!({"dateTime": format_time(crate::clock::now())}),
    )?;
    let organisation = presentation
        .credentials
        .iter()
        .find(|c| c.has_type("OrganisationCredential"));
    let siret = match organisation {
        None => None,
        Some(org) => {
            let org_siren = org.subject.get("siren").and_then(Value::as_str);
            if org_siren != Some(siren.as_str()) {
                return Err(TrustFailure::Mandate(format!(
                    "the mandate is for SIREN {siren}, the organisation credential for {}",
                    org_siren.unwrap_or("none")
                )));
            }
            org.subject
                .get("siret")
                .and_then(Value::as_str)
                .map(str::to_owned)
        }
    };
    Ok((siren, siret))
}

/// Register an organisation and its connector keys.
pub async fn register(
    svc: &TrustService,
    presentation: &Value,
    keys: &[Value],
) -> Result<(ParticipantView, LogReceipt), TrustFailure> {
    if keys.is_empty() {
        return Err(TrustFailure::Input(
            "connector_keys: register at least one connector key".into(),
        ));
    }
    let keys = connector_keys(keys)?;
    let verified = svc.verify_bound_presentation(presentation).await?;
    let (siren, siret) = authorise(&verified, powers::MANAGE_KEYS, None)?;
    let siret = siret.ok_or_else(|| {
        TrustFailure::Mandate("the presentation holds no OrganisationCredential".into())
    })?;
    let siret = Siret::parse(&siret)?;
    let (facts, _) = svc.active_establishment(&siret).await?;
    let mandate = presented_mandate(&verified.credentials, &verified.holder)?;
    let email_commitment = email_commitment(mandate);
    let _guard = svc.lock_changes().await?;
    if svc.store().participant(&siren).await?.is_some() {
        return Err(TrustFailure::Conflict(format!(
            "SIREN {siren} is already registered; add keys with POST /v1/participants/{siren}/keys"
        )));
    }
    for key in &keys {
        if svc.store().participant_key(&key.kid).await?.is_some() {
            return Err(TrustFailure::Conflict(format!(
                "connector key {} is already registered",
                key.kid
            )));
        }
    }
    let entry = encode(
        crate::clock::now(),
        &ParticipantRegistered {
            siren: siren.clone(),
            siret: siret.to_string(),
            legal_category: facts.legal_category.clone(),
            class: facts.class.as_str().to_owned(),
            credentials: verified.credentials.iter().map(|c| c.seen()).collect(),
            presentation_sha256: verified.sha256.clone(),
            representative_commitment: hex::encode(Sha256::digest(
                format!("representative\0{email_commitment}\0{}", verified.holder).as_bytes(),
            )),
            sirene_sha256: facts.evidence_sha256.clone(),
            sirene_checked_at: format_time(facts.checked_at),
            connector_keys: keys,
            anchors_version: svc.anchors_version(),
        },
    )?;
    let mut receipts = svc.journal().append_raw(vec![entry]).await?;
    let receipt = receipts
        .pop()
        .ok_or_else(|| TrustFailure::Input("nothing was logged".into()))?;
    Ok((get(svc, &siren).await?, receipt))
}

/// Add and/or revoke connector keys, on a presentation with `manage-keys` for `siren`.
pub async fn change_keys(
    svc: &TrustService,
    siren: &str,
    presentation: &Value,
    add: &[Value],
    revoke: &[String],
) -> Result<(ParticipantView, Vec<LogReceipt>), TrustFailure> {
    let siren = Siren::parse(siren)?.to_string();
    if add.is_empty() && revoke.is_empty() {
        return Err(TrustFailure::Input("nothing to add or revoke".into()));
    }
    let add = connector_keys(add)?;
    let verified = svc.verify_bound_presentation(presentation).await?;
    authorise(&verified, powers::MANAGE_KEYS, Some(&siren))?;
    let _guard = svc.lock_changes().await?;
    let participant = svc
        .store()
        .participant(&siren)
        .await?
        .ok_or_else(|| TrustFailure::NotFound(format!("no participant with SIREN {siren}")))?;
    if participant.status != "active" {
        return Err(TrustFailure::Conflict(format!(
            "participant {siren} is {}",
            participant.status
        )));
    }
    let existing = svc.store().participant_keys(&siren).await?;
    let now = crate::clock::now();
    let version = svc.anchors_version();
    let credentials: Vec<_> = verified.credentials.iter().map(|c| c.seen()).collect();
    let mut entries = Vec::new();
    for key in add {
        if svc.store().participant_key(&key.kid).await?.is_some() {
            return Err(TrustFailure::Conflict(format!(
                "connector key {} is already registered",
                key.kid
            )));
        }
        entries.push(encode(
            now,
            &ParticipantKeyAdded {
                siren: siren.clone(),
                key,
                presentation_sha256: verified.sha256.clone(),
                credentials: credentials.clone(),
                anchors_version: version.clone(),
            },
        )?);
    }
    for kid in revoke {
        if !existing
            .iter()
            .any(|k| &k.kid == kid && k.revoked_index.is_none())
        {
            return Err(TrustFailure::NotFound(format!(
                "participant {siren} has no active key {kid}"
            )));
        }
        entries.push(encode(
            now,
            &ParticipantKeyRevoked {
                siren: siren.clone(),
                kid: kid.clone(),
                presentation_sha256: verified.sha256.clone(),
                credentials: credentials.clone(),
                anchors_version: version.clone(),
            },
        )?);
    }
    let receipts = svc.journal().append_raw(entries).await?;
    Ok((get(svc, &siren).await?, receipts))
}

/// Suspend (`suspend = true`) or reinstate a participant.
pub async fn set_suspended(
    svc: &TrustService,
    siren: &str,
    suspend: bool,
    reason: &str,
    operator: &str,
) -> Result<(ParticipantView, LogReceipt), TrustFailure> {
    let siren = Siren::parse(siren)?.to_string();
    if reason.trim().is_empty() || reason.chars().count() > 500 {
        return Err(TrustFailure::Input(
            "reason must be between 1 and 500 characters".into(),
        ));
    }
    let _guard = svc.lock_changes().await?;
    let participant = svc
        .store()
        .participant(&siren)
        .await?
        .ok_or_else(|| TrustFailure::NotFound(format!("no participant with SIREN {siren}")))?;
    let version = svc.anchors_version();
    let entry = match (suspend, participant.status.as_str()) {
        (true, "suspended") => {
            return Err(TrustFailure::Conflict(format!(
                "{siren} is already suspended"
            )));
        }
        (false, "active") => {
            return Err(TrustFailure::Conflict(format!("{siren} is not suspended")));
        }
        (true, _) => encode(
            crate::clock::now(),
            &ParticipantSuspended {
                siren: siren.clone(),
                reason: reason.to_owned(),
                recorded_by: operator.to_owned(),
                anchors_version: version,
            },
        )?,
        (false, _) => encode(
            crate::clock::now(),
            &ParticipantReinstated {
                siren: siren.clone(),
                reason: reason.to_owned(),
                recorded_by: operator.to_owned(),
                anchors_version: version,
            },
        )?,
    };
    let mut receipts = svc.journal().append_raw(vec![entry]).await?;
    let receipt = receipts
        .pop()
        .ok_or_else(|| TrustFailure::Input("nothing was logged".into()))?;
    Ok((get(svc, &siren).await?, receipt))
}
