//! Trust anchors: the issuers the clearing house trusts, and what each may attest.
//!
//! One TOML file per anchor in the configured directory (`trust-anchors/` by default).
//! The set is validated at start-up; its version is the SHA-256 of its canonical JSON, so
//! every entry that records the version names exactly the set it relied on. Changes to
//! the set are logged as `trust.anchor_added` / `trust.anchor_removed` (see
//! [`super::TrustService::sync_anchors`]).

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::entry::canonical_json;

/// The placeholder for this service's own DID in anchor files.
pub const SELF_ISSUER: &str = "self";

/// What an anchor vouches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnchorKind {
    /// Issues verifiable credentials (by DID).
    CredentialIssuer,
    /// An OpenID Connect provider whose ID tokens identify people (ProConnect).
    OpenidProvider,
}

/// One trusted issuer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustAnchor {
    /// Stable identifier (lowercase letters, digits, `-`).
    pub id: String,
    pub name: String,
    pub kind: AnchorKind,
    /// Issuer DID (credential issuers; `self` for this service) or OpenID issuer URL.
    pub issuer: String,
    /// Credential types it may issue (credential issuers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credential_types: Vec<String>,
    /// Claims it may attest: credentialSubject members, or ID-token claims. Empty: any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<String>,
    /// Authentication levels accepted from it (OpenID providers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acr_values: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Why an issuer is not trusted for what it claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    #[error("issuer {0} is not a trusted issuer")]
    NotTrusted(String),
    #[error("issuer {issuer} is trusted, but not for credentials of type {kind}")]
    NotAllowedForType { issuer: String, kind: String },
    #[error("issuer {issuer} is trusted, but not to attest `{claim}`")]
    NotAllowedClaim { issuer: String, claim: String },
    #[error("trust anchor {0} is not valid at this time")]
    OutsideValidity(String),
}

/// Why the anchor directory is not usable. Lists every problem.
#[derive(Debug, thiserror::Error)]
#[error("invalid trust anchors:\n  {}", .0.join("\n  "))]
pub struct AnchorError(pub Vec<String>);

/// The validated set of anchors in force.
#[derive(Debug, Clone, PartialEq)]
pub struct AnchorSet {
    anchors: Vec<TrustAnchor>,
    version: String,
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl AnchorSet {
    /// Build a set from anchors, validating them; `self_did` replaces `issuer = "self"`.
    pub fn new(mut anchors: Vec<TrustAnchor>, self_did: &str) -> Result<AnchorSet, AnchorError> {
        let mut problems = Vec::new();
        anchors.sort_by(|a, b| a.id.cmp(&b.id));
        for pair in anchors.windows(2) {
            if pair[0].id == pair[1].id {
                problems.push(format!("anchor id {:?} is used twice", pair[0].id));
            }
        }
        for anchor in &mut anchors {
            let at = format!("anchor {:?}", anchor.id);
            if !valid_id(&anchor.id) {
                problems.push(format!(
                    "{at}: id must be lowercase letters, digits and `-`"
                ));
            }
            if anchor.name.trim().is_empty() {
                problems.push(format!("{at}: name is empty"));
            }
            if anchor.issuer == SELF_ISSUER {
                anchor.issuer = self_did.to_owned();
            }
            match anchor.kind {
                AnchorKind::CredentialIssuer => {
                    if !anchor.issuer.starts_with("did:") {
                        problems.push(format!("{at}: a credential issuer is a DID"));
                    }
                    if anchor.credential_types.is_empty() {
                        problems.push(format!("{at}: credential_types is empty"));
                    }
                }
                AnchorKind::OpenidProvider => match reqwest::Url::parse(&anchor.issuer) {
                    Ok(url) if url.scheme() == "https" => {}
                    Ok(url)
                        if url.scheme() == "http"
                            && matches!(url.host_str(), Some("127.0.0.1" | "localhost")) => {}
                    _ => problems.push(format!(
                        "{at}: an OpenID provider's issuer is an https URL (http only for localhost)"
                    )),
                },
            }
            if let (Some(from), Some(until)) = (anchor.valid_from, anchor.valid_until)
                && from >= until
            {
                problems.push(format!("{at}: valid_from is not before valid_until"));
            }
        }
        if !problems.is_empty() {
            return Err(AnchorError(problems));
        }
        let version = Self::version_of(&anchors);
        Ok(AnchorSet { anchors, version })
    }

    /// Load `*.toml` files from `dir`.
    pub fn load_dir(dir: &Path, self_did: &str) -> Result<AnchorSet, AnchorError> {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| AnchorError(vec![format!("{}: {e}", dir.display())]))?;
        let mut paths: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        let mut anchors = Vec::new();
        let mut problems = Vec::new();
        for path in paths {
            match std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|text| toml::from_str::<TrustAnchor>(&text).map_err(|e| e.to_string()))
            {
                Ok(anchor) => anchors.push(anchor),
                Err(e) => problems.push(format!("{}: {e}", path.display())),
            }
        }
        if !problems.is_empty() {
            return Err(AnchorError(problems));
        }
        AnchorSet::new(anchors, self_did)
    }

    fn version_of(anchors: &[TrustAnchor]) -> String {
        let value = serde_json::to_value(anchors).unwrap_or(Value::Null);
        hex::encode(Sha256::digest(canonical_json(&value).unwrap_or_default()))
    }

    /// SHA-256 (hex) of the set's canonical JSON.
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn anchors(&self) -> &[TrustAnchor] {
        &self.anchors
    }

    pub fn get(&self, id: &str) -> Option<&TrustAnchor> {
        self.anchors.iter().find(|a| a.id == id)
    }

    fn in_force(anchor: &TrustAnchor, now: DateTime<Utc>) -> bool {
        anchor.valid_from.is_none_or(|from| from <= now)
            && anchor.valid_until.is_none_or(|until| now < until)
    }

    /// The anchor that lets `issuer` issue a credential with these types and subject.
    pub fn issuer_for(
        &self,
        issuer: &str,
        types: &[String],
        subject: &Value,
        now: DateTime<Utc>,
    ) -> Result<&TrustAnchor, TrustError> {
        let candidates: Vec<&TrustAnchor> = self
            .anchors
            .iter()
            .filter(|a| a.kind == AnchorKind::CredentialIssuer && a.issuer == issuer)
            .collect();
        if candidates.is_empty() {
            return Err(TrustError::NotTrusted(issuer.to_owned()));
        }
        let specific: Vec<&String> = types
            .iter()
            .filter(|t| t.as_str() != "VerifiableCredential")
            .collect();
        let mut last_error = TrustError::OutsideValidity(candidates[0].id.clone());
        for anchor in candidates {
            if !Self::in_force(anchor, now) {
                last_error = TrustError::OutsideValidity(anchor.id.clone());
                continue;
            }
            if let Some(kind) = specific
                .iter()
                .find(|t| !anchor.credential_types.iter().any(|allowed| allowed == **t))
            {
                last_error = TrustError::NotAllowedForType {
                    issuer: issuer.to_owned(),
                    kind: (*kind).clone(),
                };
                continue;
            }
            if specific.is_empty() {
                last_error = TrustError::NotAllowedForType {
                    issuer: issuer.to_owned(),
                    kind: "VerifiableCredential".into(),
                };
                continue;
            }
            if !anchor.claims.is_empty() {
                let claims = subject_claims(subject);
                if let Some(claim) = claims
                    .iter()
                    .find(|c| !anchor.claims.iter().any(|allowed| allowed == *c))
                {
                    last_error = TrustError::NotAllowedClaim {
                        issuer: issuer.to_owned(),
                        claim: claim.clone(),
                    };
                    continue;
                }
            }
            return Ok(anchor);
        }
        Err(last_error)
    }

    /// The OpenID provider anchor with this issuer URL, if trusted now.
    pub fn openid_provider(&self, issuer: &str, now: DateTime<Utc>) -> Option<&TrustAnchor> {
        self.anchors.iter().find(|a| {
            a.kind == AnchorKind::OpenidProvider && a.issuer == issuer && Self::in_force(a, now)
        })
    }

    /// Compare with the anchors recorded in the log: the anchors to add (new or changed)
    /// and the ids to remove.
    pub fn diff<'a>(&'a self, recorded: &[(String, Value)]) -> (Vec<&'a TrustAnchor>, Vec<String>) {
        let added = self
            .anchors
            .iter()
            .filter(|anchor| {
                let current = serde_json::to_value(anchor).unwrap_or(Value::Null);
                !recorded
                    .iter()
                    .any(|(id, definition)| id == &anchor.id && definition == &current)
            })
            .collect();
        let removed = recorded
            .iter()
            .filter(|(id, _)| self.get(id).is_none())
            .map(|(id, _)| id.clone())
            .collect();
        (added, removed)
    }
}

/// The member names of a credential subject (or of each subject, when there are several).
fn subject_claims(subject: &Value) -> Vec<String> {
    let mut claims = Vec::new();
    let subjects: Vec<&Value> = match subject {
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    for subject in subjects {
        if let Value::Object(object) = subject {
            for key in object.keys() {
                if key != "id" && key != "type" && !claims.contains(key) {
                    claims.push(key.clone());
                }
            }
        }
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer(id: &str, did: &str, types: &[&str]) -> TrustAnchor {
        TrustAnchor {
            id: id.into(),
            name: id.into(),
            kind: AnchorKind::CredentialIssuer,
            issuer: did.into(),
            credential_types: types.iter().map(|t| t.to_string()).collect(),
            claims: vec![],
            acr_values: vec![],
            valid_from: None,
            valid_until: None,
            description: None,
        }
    }

    #[test]
    fn issuers_are_trusted_only_for_their_types() {
        let set = AnchorSet::new(
            vec![
                issuer("self", SELF_ISSUER, &["OrganisationCredential"]),
                issuer("gaiax", "did:web:gx.example", &["LegalPerson"]),
            ],
            "did:web:ch.example",
        )
        .unwrap();
        let types = |t: &str| vec!["VerifiableCredential".to_string(), t.to_string()];
        let now = crate::clock::now();
        assert_eq!(
            set.issuer_for(
                "did:web:ch.example",
                &types("OrganisationCredential"),
                &Value::Null,
                now
            )
            .unwrap()
            .id,
            "self"
        );
        assert!(matches!(
            set.issuer_for(
                "did:web:gx.example",
                &types("OrganisationCredential"),
                &Value::Null,
                now
            ),
            Err(TrustError::NotAllowedForType { .. })
        ));
        assert!(matches!(
            set.issuer_for("did:web:other", &types("LegalPerson"), &Value::Null, now),
            Err(TrustError::NotTrusted(_))
        ));
    }

    #[test]
    fn versions_follow_content_and_problems_are_listed() {
        let a = AnchorSet::new(vec![issuer("a", "did:web:a", &["X"])], "did:web:s").unwrap();
        let b = AnchorSet::new(vec![issuer("a", "did:web:b", &["X"])], "did:web:s").unwrap();
        assert_ne!(a.version(), b.version());
        let error = AnchorSet::new(
            vec![
                issuer("A b", "https://x", &[]),
                issuer("A b", "did:x", &["X"]),
            ],
            "did:web:s",
        )
        .unwrap_err();
        assert!(error.0.len() >= 3, "{error}");
    }
}
