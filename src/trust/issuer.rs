//! The clearing house as a credential issuer: its `did:web` identity and key, and signing
//! W3C VC 2.0 credentials (and its status lists) with `eddsa-rdfc-2022`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};
use ssi::JWK;
use ssi::claims::SignatureEnvironment;
use ssi::claims::data_integrity::{AnySuite, CryptographicSuite, ProofOptions};
use ssi::claims::vc::v2::JsonCredential;
use ssi::dids::{DIDResolver, VerificationMethodDIDResolver};
use ssi::json_ld::ContextLoader;
use ssi::jwk::{Base64urlUInt, Params};
use ssi::verification_methods::{AnyMethod, ReferenceOrOwned, SingleSecretSigner};

use super::contexts::{CONTEXT_URL, CREDENTIALS_V2, loader};
use super::did::{DidResolver, did_web_for, multikey_of};
use super::status::encode_list;
use crate::entry::format_time;

/// Why a credential could not be issued.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    #[error("credential does not have the VC 2.0 shape: {0}")]
    Shape(String),
    #[error("signing failed: {0}")]
    Signing(String),
}

/// This service's issuer identity.
#[derive(Clone)]
pub struct Issuer {
    inner: Arc<Inner>,
}

struct Inner {
    did: String,
    method: String,
    base_url: String,
    jwk: JWK,
    document: Value,
    env: SignatureEnvironment<ContextLoader>,
    resolver: VerificationMethodDIDResolver<DidResolver, AnyMethod>,
}

/// The private JWK of an Ed25519 key, as `ssi` signs with.
fn private_jwk(key: &SigningKey) -> JWK {
    let mut jwk = JWK::from(key.verifying_key());
    if let Params::OKP(params) = &mut jwk.params {
        params.private_key = Some(Base64urlUInt(key.to_bytes().to_vec()));
    }
    jwk
}

impl Issuer {
    /// The issuer at `base_url` (its `did:web` is derived from it) with `key`.
    pub fn new(
        base_url: &str,
        key: &SigningKey,
        did_cache_ttl: std::time::Duration,
        allow_http: bool,
    ) -> Result<Issuer, IssueError> {
        let did = did_web_for(base_url).map_err(|e| IssueError::Shape(e.to_string()))?;
        let method = format!("{did}#issuer-1");
        let document = json!({
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": did,
            "verificationMethod": [{
                "id": method,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": multikey_of(&key.verifying_key()),
            }],
            "assertionMethod": [method],
            "authentication": [method],
        });
        let resolver = DidResolver::new(
            did_cache_ttl,
            allow_http,
            Some((did.clone(), document.clone())),
        );
        Ok(Issuer {
            inner: Arc::new(Inner {
                method,
                base_url: base_url.trim_end_matches('/').to_owned(),
                jwk: private_jwk(key),
                env: SignatureEnvironment {
                    json_ld_loader: loader(),
                    eip712_loader: (),
                },
                resolver: resolver.into_vm_resolver(),
                document,
                did,
            }),
        })
    }

    pub fn did(&self) -> &str {
        &self.inner.did
    }

    pub fn verification_method(&self) -> &str {
        &self.inner.method
    }

    /// The DID document served at `/.well-known/did.json`.
    pub fn did_document(&self) -> &Value {
        &self.inner.document
    }

    /// URL of one of this service's status lists.
    pub fn status_list_url(&self, list: &str) -> String {
        format!("{}/v1/status/{list}", self.inner.base_url)
    }

    /// URL prefix of this service's status lists.
    pub fn status_list_prefix(&self) -> String {
        format!("{}/v1/status/", self.inner.base_url)
    }

    /// Sign an unsecured VC 2.0 credential with `eddsa-rdfc-2022`.
    pub async fn sign(&self, credential: Value) -> Result<Value, IssueError> {
        let parsed: JsonCredential =
            serde_json::from_value(credential).map_err(|e| IssueError::Shape(e.to_string()))?;
        let options = ProofOptions::from_method(ReferenceOrOwned::Reference(
            self.inner
                .method
                .parse()
                .map_err(|e| IssueError::Shape(format!("verification method: {e:?}")))?,
        ));
        let signer = SingleSecretSigner::new(self.inner.jwk.clone()).into_local();
        let signed = AnySuite::EdDsaRdfc2022
            .sign_with(
                &self.inner.env,
                parsed,
                &self.inner.resolver,
                signer,
                options,
                Default::default(),
            )
            .await
            .map_err(|e| IssueError::Signing(e.to_string()))?;
        serde_json::to_value(&signed).map_err(|e| IssueError::Signing(e.to_string()))
    }

    /// The signed `BitstringStatusListCredential` of `list` with these bits, valid for a
    /// short while (verifiers must come back for fresh status).
    pub async fn status_list_credential(
        &self,
        list: &str,
        bits: &[u8],
        now: DateTime<Utc>,
        valid_for: chrono::Duration,
    ) -> Result<Value, IssueError> {
        let url = self.status_list_url(list);
        let credential = json!({
            "@context": [CREDENTIALS_V2],
            "id": url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": self.inner.did,
            "validFrom": format_time(now),
            "validUntil": format_time(now + valid_for),
            "credentialSubject": {
                "id": format!("{url}#list"),
                "type": "BitstringStatusList",
                "statusPurpose": "revocation",
                "encodedList": encode_list(bits),
            },
        });
        self.sign(credential).await
    }

    /// Skeleton of a credential issued here: contexts, id, types, issuer, validity, status.
    pub fn credential_template(
        &self,
        id: &str,
        kind: &str,
        valid_from: DateTime<Utc>,
        valid_until: DateTime<Utc>,
        status: (&str, u64),
        subject: Value,
    ) -> Value {
        let list_url = self.status_list_url(status.0);
        let mut credential = json!({
            "@context": [CREDENTIALS_V2, CONTEXT_URL],
            "id": id,
            "type": ["VerifiableCredential", kind],
            "issuer": self.inner.did,
            "validFrom": format_time(valid_from),
            "validUntil": format_time(valid_until),
            "credentialSubject": subject,
            "credentialStatus": {
                "id": format!("{list_url}#{}", status.1),
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": status.1.to_string(),
                "statusListCredential": list_url,
            },
        });
        if let Some(schema) = super::schemas::schema_id(kind) {
            credential["credentialSchema"] = json!({"id": schema, "type": "JsonSchema"});
        }
        credential
    }
}
