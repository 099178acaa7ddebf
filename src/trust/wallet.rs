//! A holder's side: an Ed25519 key with its `did:key`, signing presentations (and, as a
//! small issuer, credentials) with `eddsa-jcs-2022`. Used by the demo, the example
//! connector and the tests; a real representative would use their own wallet.

use chrono::SecondsFormat;
use ed25519_dalek::SigningKey;
use serde_json::{Map, Value, json};

use super::contexts::CREDENTIALS_V2;
use super::did::{did_key_of, jwk_of};
use super::jcs_suite::{self, JcsProofError};

/// An Ed25519 key and its `did:key`.
pub struct Wallet {
    key: SigningKey,
    did: String,
    method: String,
}

impl Wallet {
    pub fn new(key: SigningKey) -> Wallet {
        let (did, method) = did_key_of(&key.verifying_key());
        Wallet { key, did, method }
    }

    /// A wallet with a fresh random key.
    pub fn generate() -> Wallet {
        Wallet::new(SigningKey::generate(&mut rand::rngs::OsRng))
    }

    pub fn did(&self) -> &str {
        &self.did
    }

    /// The verification method (`did:key:z…#z…`).
    pub fn method(&self) -> &str {
        &self.method
    }

    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// The public key as a JWK.
    pub fn public_jwk(&self) -> Value {
        jwk_of(&self.key.verifying_key())
    }

    fn proof_options(&self, purpose: &str) -> Map<String, Value> {
        let mut options = Map::new();
        options.insert(
            "created".into(),
            Value::from(crate::clock::now().to_rfc3339_opts(SecondsFormat::Secs, true)),
        );
        options.insert(
            "verificationMethod".into(),
            Value::from(self.method.clone()),
        );
        options.insert("proofPurpose".into(), Value::from(purpose));
        options
    }

    /// Sign a credential this key issues (proof purpose `assertionMethod`).
    pub fn sign_credential(&self, credential: &Value) -> Result<Value, JcsProofError> {
        jcs_suite::sign(
            credential,
            &self.proof_options("assertionMethod"),
            &self.key,
        )
    }

    /// A presentation of `credentials` by this holder, bound to `challenge` and `domain`
    /// (proof purpose `authentication`).
    pub fn present(
        &self,
        credentials: &[Value],
        challenge: Option<&str>,
        domain: Option<&str>,
    ) -> Result<Value, JcsProofError> {
        let presentation = json!({
            "@context": [CREDENTIALS_V2],
            "type": ["VerifiablePresentation"],
            "holder": self.did,
            "verifiableCredential": credentials,
        });
        let mut options = self.proof_options("authentication");
        if let Some(challenge) = challenge {
            options.insert("challenge".into(), Value::from(challenge));
        }
        if let Some(domain) = domain {
            options.insert("domain".into(), Value::from(domain));
        }
        jcs_suite::sign(&presentation, &options, &self.key)
    }
}
