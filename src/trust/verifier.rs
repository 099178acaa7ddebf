//! Verifying credentials and presentations: signature, key binding, validity period,
//! issuer trust, and status — every check `ssi` leaves to its caller included.
//!
//! Formats: W3C VC 2.0 secured as Data Integrity (`eddsa-rdfc-2022` and `ecdsa-rdfc-2019`
//! through `ssi`, `eddsa-jcs-2022` through [`super::jcs_suite`]) or as VC-JOSE (`vc+jwt`,
//! EdDSA or ES256, compact or enveloped). Keys come from `did:key`, `did:jwk` or `did:web`.
//!
//! Fail closed: anything that cannot be checked is an error, with the reason.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use ssi::claims::VerificationParameters;
use ssi::claims::data_integrity::AnyDataIntegrity;
use ssi::claims::jws::JwsSlice;
use ssi::claims::vc::v2::JsonCredential;
use ssi::claims::vc::v2::syntax::JsonPresentation;
use ssi::claims::vc_jose_cose::{JoseVc, JoseVp};
use ssi::dids::{DIDResolver, VerificationMethodDIDResolver};
use ssi::json_ld::ContextLoader;
use ssi::verification_methods::AnyMethod;

use super::anchors::{AnchorSet, TrustError};
use super::did::{DidError, DidResolver, Relationship, did_of};
use super::jcs_suite;
use super::status::StatusChecker;
use crate::entry::{CredentialSeen, StatusSeen, canonical_json};

/// Why a credential or presentation was rejected. Each variant names the check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    #[error("malformed credential or presentation: {0}")]
    Malformed(String),
    #[error("unsupported securing mechanism: {0}")]
    Unsupported(String),
    #[error("signature does not verify: {0}")]
    Signature(String),
    #[error("key problem: {0}")]
    Key(#[from] DidError),
    #[error("credential is not valid before {0}")]
    NotYetValid(String),
    #[error("credential expired at {0}")]
    Expired(String),
    #[error(transparent)]
    Untrusted(#[from] TrustError),
    #[error("credential is revoked (status list {list}, index {index})")]
    Revoked { list: String, index: u64 },
    #[error("credential is suspended (status list {list}, index {index})")]
    Suspended { list: String, index: u64 },
    #[error("status list {list} could not be checked: {reason}")]
    StatusUnavailable { list: String, reason: String },
    #[error("presentation proof purpose must be `authentication`")]
    WrongProofPurpose,
    #[error("presentation is not bound to the expected challenge")]
    WrongChallenge,
    #[error("presentation is for domain {found:?}, expected {expected:?}")]
    WrongDomain {
        found: Vec<String>,
        expected: String,
    },
    #[error("presentation is signed by {signer}, not by its holder {holder}")]
    HolderMismatch { signer: String, holder: String },
}

/// How a document was secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Securing {
    EddsaRdfc2022,
    EcdsaRdfc2019,
    EddsaJcs2022,
    VcJwt,
}

impl Securing {
    pub fn as_str(&self) -> &'static str {
        match self {
            Securing::EddsaRdfc2022 => "eddsa-rdfc-2022",
            Securing::EcdsaRdfc2019 => "ecdsa-rdfc-2019",
            Securing::EddsaJcs2022 => "eddsa-jcs-2022",
            Securing::VcJwt => "vc+jwt",
        }
    }
}

/// A credential that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedCredential {
    /// The credential document (for `vc+jwt`, the JWT's payload).
    pub document: Value,
    pub id: Option<String>,
    pub types: Vec<String>,
    pub issuer: String,
    pub subject: Value,
    pub securing: Securing,
    /// SHA-256 (hex) of what was presented (canonical JSON, or the compact JWS).
    pub sha256: String,
    pub anchor_id: String,
    pub status: Option<StatusSeen>,
}

impl VerifiedCredential {
    pub fn has_type(&self, kind: &str) -> bool {
        self.types.iter().any(|t| t == kind)
    }

    /// What an entry records about it.
    pub fn seen(&self) -> CredentialSeen {
        CredentialSeen {
            sha256: self.sha256.clone(),
            types: self.types.clone(),
            issuer: self.issuer.clone(),
            anchor_id: self.anchor_id.clone(),
            format: self.securing.as_str().to_owned(),
            status: self.status.clone(),
        }
    }
}

/// A presentation that passed every check, with its credentials.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedPresentation {
    pub holder: String,
    /// The verification method that signed it.
    pub signer: String,
    pub credentials: Vec<VerifiedCredential>,
    pub sha256: String,
    pub challenge: Option<String>,
}

/// What a presentation must be bound to.
#[derive(Debug, Clone)]
pub struct PresentationChecks<'a> {
    /// The challenge issued for this exchange; `None` to skip (VC-API callers give theirs).
    pub challenge: Option<&'a str>,
    /// The domain (this service's public URL) the proof must name.
    pub domain: Option<&'a str>,
}

/// Verifies credentials and presentations. Cheap to clone.
#[derive(Clone)]
pub struct Verifier {
    dids: DidResolver,
    vm_resolver: Arc<VerificationMethodDIDResolver<DidResolver, AnyMethod>>,
    loader: ContextLoader,
    status: StatusChecker,
}

/// SHA-256 (hex) of a JSON value's canonical form.
pub fn json_sha256(value: &Value) -> String {
    hex::encode(Sha256::digest(canonical_json(value).unwrap_or_default()))
}

fn types_of(document: &Value) -> Vec<String> {
    match document.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

fn id_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(id) => Some(id.clone()),
        Value::Object(object) => object.get("id")?.as_str().map(str::to_owned),
        _ => None,
    }
}

fn parse_time(field: &str, value: &str) -> Result<DateTime<Utc>, VerifyError> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| VerifyError::Malformed(format!("{field} is not an RFC 3339 date-time")))
}

/// The JWS inside a `vc+jwt` credential: a bare compact string, or an enveloped credential.
fn enveloped_jwt(value: &Value) -> Option<String> {
    match value {
        Value::String(jws) => Some(jws.clone()),
        Value::Object(object) => {
            let id = object.get("id")?.as_str()?;
            ["data:application/vc+jwt,", "data:application/vc-ld+jwt,"]
                .iter()
                .find_map(|prefix| id.strip_prefix(prefix))
                .map(str::to_owned)
        }
        _ => None,
    }
}

fn cryptosuite_of(document: &Value) -> Result<Securing, VerifyError> {
    let proof = match document.get("proof") {
        Some(Value::Object(proof)) => proof,
        Some(Value::Array(proofs)) if proofs.len() == 1 => proofs[0]
            .as_object()
            .ok_or_else(|| VerifyError::Malformed("proof is not an object".into()))?,
        Some(Value::Array(_)) => {
            return Err(VerifyError::Unsupported(
                "proof sets and chains (more than one proof)".into(),
            ));
        }
        _ => return Err(VerifyError::Malformed("no proof".into())),
    };
    if proof.get("type").and_then(Value::as_str) != Some("DataIntegrityProof") {
        return Err(VerifyError::Unsupported(format!(
            "proof type {:?} (only DataIntegrityProof)",
            proof.get("type")
        )));
    }
    match proof.get("cryptosuite").and_then(Value::as_str) {
        Some("eddsa-rdfc-2022") => Ok(Securing::EddsaRdfc2022),
        Some("ecdsa-rdfc-2019") => Ok(Securing::EcdsaRdfc2019),
        Some("eddsa-jcs-2022") => Ok(Securing::EddsaJcs2022),
        other => Err(VerifyError::Unsupported(format!("cryptosuite {other:?}"))),
    }
}

fn single_proof(document: &Value) -> Option<&Value> {
    match document.get("proof")? {
        Value::Array(proofs) => proofs.first(),
        proof => Some(proof),
    }
}

impl Verifier {
    pub fn new(dids: DidResolver, status: StatusChecker) -> Self {
        let vm_resolver = Arc::new(dids.clone().into_vm_resolver());
        Verifier {
            dids,
            vm_resolver,
            loader: super::contexts::loader(),
            status,
        }
    }

    pub fn dids(&self) -> &DidResolver {
        &self.dids
    }

    fn params(
        &self,
        now: DateTime<Utc>,
    ) -> VerificationParameters<&VerificationMethodDIDResolver<DidResolver, AnyMethod>, ContextLoader>
    {
        VerificationParameters::from_resolver(self.vm_resolver.as_ref())
            .with_json_ld_loader(self.loader.clone())
            .with_date_time(now)
    }

    /// Check the signature of a secured document and that the signing key belongs to the
    /// party named by `controller_field` (`issuer` or `holder`) under `relationship`.
    /// Returns the document as signed (for `vc+jwt`, the payload), how it was secured and
    /// the signing verification method.
    pub async fn verify_securing(
        &self,
        input: &Value,
        controller_field: &str,
        relationship: Relationship,
        now: DateTime<Utc>,
    ) -> Result<(Value, Securing, String), VerifyError> {
        self.check_proof(input, Some(controller_field), relationship, now)
            .await
    }

    /// Check only the proof: the signature, and that the verification method is listed for
    /// `relationship` in its own DID document, whoever the document says issued it. (For
    /// test vectors whose issuer is not a DID; the service itself always binds the key.)
    pub async fn verify_proof(
        &self,
        input: &Value,
        relationship: Relationship,
        now: DateTime<Utc>,
    ) -> Result<Securing, VerifyError> {
        self.check_proof(input, None, relationship, now)
            .await
            .map(|(_, securing, _)| securing)
    }

    async fn check_proof(
        &self,
        input: &Value,
        controller_field: Option<&str>,
        relationship: Relationship,
        now: DateTime<Utc>,
    ) -> Result<(Value, Securing, String), VerifyError> {
        if let Some(jws) = enveloped_jwt(input) {
            return self
                .verify_jwt(&jws, controller_field, relationship, now)
                .await;
        }
        let securing = cryptosuite_of(input)?;
        let proof = single_proof(input).ok_or_else(|| VerifyError::Malformed("no proof".into()))?;
        let method = proof
            .get("verificationMethod")
            .and_then(Value::as_str)
            .ok_or_else(|| VerifyError::Malformed("proof has no verificationMethod".into()))?
            .to_owned();
        let controller = match controller_field {
            Some(field) => id_of(input.get(field)).ok_or_else(|| {
                VerifyError::Malformed(format!("no `{field}` to bind the key to"))
            })?,
            None => did_of(&method).to_owned(),
        };
        let expected_purpose = relationship.as_str();
        if proof.get("proofPurpose").and_then(Value::as_str) != Some(expected_purpose) {
            return Err(match relationship {
                Relationship::Authentication => VerifyError::WrongProofPurpose,
                Relationship::AssertionMethod => VerifyError::Malformed(
                    "credential proof purpose must be `assertionMethod`".into(),
                ),
            });
        }
        if let Some(expires) = proof.get("expires").and_then(Value::as_str)
            && parse_time("proof.expires", expires)? <= now
        {
            return Err(VerifyError::Signature(format!(
                "proof expired at {expires}"
            )));
        }
        match securing {
            Securing::EddsaJcs2022 => {
                let key = self
                    .dids
                    .ed25519_key(&method, &controller, relationship)
                    .await?;
                jcs_suite::verify(input, &key)
                    .map_err(|e| VerifyError::Signature(e.to_string()))?;
            }
            Securing::EddsaRdfc2022 | Securing::EcdsaRdfc2019 => {
                self.dids
                    .authorised_method(&method, &controller, relationship)
                    .await?;
                let presentation = types_of(input)
                    .iter()
                    .any(|t| t == "VerifiablePresentation");
                self.verify_rdfc(input, presentation, now).await?;
            }
            // JWTs took the early return above.
            Securing::VcJwt => {
                return Err(VerifyError::Unsupported(
                    "JOSE inside Data Integrity".into(),
                ));
            }
        }
        let mut document = input.clone();
        if let Value::Object(object) = &mut document {
            object.remove("proof");
        }
        Ok((document, securing, method))
    }

    async fn verify_rdfc(
        &self,
        input: &Value,
        presentation: bool,
        now: DateTime<Utc>,
    ) -> Result<(), VerifyError> {
        let params = self.params(now);
        let outcome = if presentation {
            let vp: AnyDataIntegrity<JsonPresentation<Value>> =
                serde_json::from_value(input.clone())
                    .map_err(|e| VerifyError::Malformed(e.to_string()))?;
            vp.verify(params).await
        } else {
            let vc: AnyDataIntegrity<JsonCredential> = serde_json::from_value(input.clone())
                .map_err(|e| VerifyError::Malformed(e.to_string()))?;
            vc.verify(params).await
        };
        match outcome {
            Ok(Ok(())) => Ok(()),
            // Validity dates are checked uniformly (and named) by the caller; anything else
            // ssi rejects is a signature failure.
            Ok(Err(ssi::claims::Invalid::Claims(_))) => Ok(()),
            Ok(Err(invalid)) => Err(VerifyError::Signature(invalid.to_string())),
            Err(error) => Err(VerifyError::Signature(error.to_string())),
        }
    }

    async fn verify_jwt(
        &self,
        jws: &str,
        controller_field: Option<&str>,
        relationship: Relationship,
        now: DateTime<Utc>,
    ) -> Result<(Value, Securing, String), VerifyError> {
        let presentation = relationship == Relationship::Authentication;
        let mut parts = jws.split('.');
        let header: Value = parts
            .next()
            .and_then(|h| B64URL.decode(h).ok())
            .and_then(|h| serde_json::from_slice(&h).ok())
            .ok_or_else(|| VerifyError::Malformed("JWS header is not base64url JSON".into()))?;
        let payload: Value = parts
            .next()
            .and_then(|p| B64URL.decode(p).ok())
            .and_then(|p| serde_json::from_slice(&p).ok())
            .ok_or_else(|| VerifyError::Malformed("JWS payload is not base64url JSON".into()))?;
        let typ = header
            .get("typ")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let expected_typ = if presentation { "vp+jwt" } else { "vc+jwt" };
        if typ != expected_typ {
            return Err(VerifyError::Unsupported(format!(
                "JOSE typ {typ:?} (expected {expected_typ})"
            )));
        }
        let alg = header
            .get("alg")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if alg != "EdDSA" && alg != "ES256" {
            return Err(VerifyError::Unsupported(format!(
                "JOSE alg {alg:?} (EdDSA or ES256)"
            )));
        }
        let method = header
            .get("kid")
            .and_then(Value::as_str)
            .ok_or_else(|| VerifyError::Malformed("JWS header has no kid".into()))?
            .to_owned();
        let controller = match controller_field {
            Some(field) => id_of(payload.get(field)).ok_or_else(|| {
                VerifyError::Malformed(format!("no `{field}` to bind the key to"))
            })?,
            None => did_of(&method).to_owned(),
        };
        self.dids
            .authorised_method(&method, &controller, relationship)
            .await?;
        let slice = JwsSlice::new(jws.as_bytes())
            .map_err(|e| VerifyError::Malformed(format!("not a compact JWS: {e}")))?;
        let params = self.params(now);
        let outcome = if presentation {
            let decoded = JoseVp::<JsonPresentation<Value>>::decode(slice)
                .map_err(|e| VerifyError::Malformed(e.to_string()))?;
            decoded.verify(params).await
        } else {
            let decoded = JoseVc::<JsonCredential>::decode(slice)
                .map_err(|e| VerifyError::Malformed(e.to_string()))?;
            decoded.verify(params).await
        };
        match outcome {
            Ok(Ok(())) | Ok(Err(ssi::claims::Invalid::Claims(_))) => {}
            Ok(Err(invalid)) => return Err(VerifyError::Signature(invalid.to_string())),
            Err(error) => return Err(VerifyError::Signature(error.to_string())),
        }
        Ok((payload, Securing::VcJwt, method))
    }

    /// Verify a credential completely: securing, key binding, validity at `now`, issuer
    /// trusted for its types, and status.
    pub async fn verify_credential(
        &self,
        input: &Value,
        anchors: &AnchorSet,
        now: DateTime<Utc>,
    ) -> Result<VerifiedCredential, VerifyError> {
        let (document, securing, _) = self
            .verify_securing(input, "issuer", Relationship::AssertionMethod, now)
            .await?;
        let types = types_of(&document);
        if !types.iter().any(|t| t == "VerifiableCredential") {
            return Err(VerifyError::Malformed(
                "type must include VerifiableCredential".into(),
            ));
        }
        let issuer = id_of(document.get("issuer"))
            .ok_or_else(|| VerifyError::Malformed("no issuer".into()))?;
        if let Some(from) = document.get("validFrom").and_then(Value::as_str)
            && parse_time("validFrom", from)? > now
        {
            return Err(VerifyError::NotYetValid(from.to_owned()));
        }
        if let Some(until) = document.get("validUntil").and_then(Value::as_str)
            && parse_time("validUntil", until)? <= now
        {
            return Err(VerifyError::Expired(until.to_owned()));
        }
        let subject = document
            .get("credentialSubject")
            .cloned()
            .ok_or_else(|| VerifyError::Malformed("no credentialSubject".into()))?;
        let anchor = anchors.issuer_for(&issuer, &types, &subject, now)?;
        let status = match document.get("credentialStatus") {
            None => None,
            Some(entry) => Some(self.status.check(self, entry, &issuer, now).await?),
        };
        let sha256 = match &input {
            Value::String(jws) => hex::encode(Sha256::digest(jws.as_bytes())),
            other => json_sha256(other),
        };
        Ok(VerifiedCredential {
            id: document
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_owned),
            types,
            issuer,
            subject,
            securing,
            sha256,
            anchor_id: anchor.id.clone(),
            status,
            document,
        })
    }

    /// Verify a presentation and each credential in it.
    pub async fn verify_presentation(
        &self,
        input: &Value,
        checks: &PresentationChecks<'_>,
        anchors: &AnchorSet,
        now: DateTime<Utc>,
    ) -> Result<VerifiedPresentation, VerifyError> {
        let (document, securing, signer) = self
            .verify_securing(input, "holder", Relationship::Authentication, now)
            .await?;
        let holder = id_of(document.get("holder"))
            .ok_or_else(|| VerifyError::Malformed("presentation has no holder".into()))?;
        if did_of(&signer) != holder {
            return Err(VerifyError::HolderMismatch {
                signer: signer.clone(),
                holder,
            });
        }
        let (challenge, domains) = if securing == Securing::VcJwt {
            // VC-JOSE presentations carry the challenge as `nonce` and the domain as `aud`.
            let nonce = document
                .get("nonce")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let audience = match document.get("aud") {
                Some(Value::String(a)) => vec![a.clone()],
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|a| a.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            };
            (nonce, audience)
        } else {
            let proof = single_proof(input).cloned().unwrap_or(Value::Null);
            let challenge = proof
                .get("challenge")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let domains = match proof.get("domain") {
                Some(Value::String(d)) => vec![d.clone()],
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|d| d.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            };
            (challenge, domains)
        };
        if let Some(expected) = checks.challenge
            && challenge.as_deref() != Some(expected)
        {
            return Err(VerifyError::WrongChallenge);
        }
        if let Some(expected) = checks.domain
            && !domains.iter().any(|d| d == expected)
        {
            return Err(VerifyError::WrongDomain {
                found: domains,
                expected: expected.to_owned(),
            });
        }
        let embedded: Vec<Value> = match document.get("verifiableCredential") {
            None => Vec::new(),
            Some(Value::Array(items)) => items.clone(),
            Some(one) => vec![one.clone()],
        };
        let mut credentials = Vec::with_capacity(embedded.len());
        for credential in &embedded {
            credentials.push(self.verify_credential(credential, anchors, now).await?);
        }
        Ok(VerifiedPresentation {
            holder,
            signer,
            credentials,
            sha256: match input {
                Value::String(jws) => hex::encode(Sha256::digest(jws.as_bytes())),
                other => json_sha256(other),
            },
            challenge,
        })
    }
}
