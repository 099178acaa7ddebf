//! The `eddsa-jcs-2022` Data Integrity cryptosuite (W3C vc-di-eddsa §3.3), which `ssi`
//! does not implement.
//!
//! Hash data = SHA-256(JCS(proof configuration)) ‖ SHA-256(JCS(document without proof));
//! the proof value is the base58btc multibase of the Ed25519 signature over it. When the
//! proof carries an `@context`, it must be a prefix of the document's, and the document is
//! hashed with the proof's `@context` (so a document cannot be re-contextualised).

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::entry::canonical_json;

/// The cryptosuite name.
pub const SUITE: &str = "eddsa-jcs-2022";

/// Why an `eddsa-jcs-2022` proof was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JcsProofError {
    #[error("document is not a JSON object")]
    NotAnObject,
    #[error("proof is missing or not a single object")]
    MissingProof,
    #[error("proof is not an eddsa-jcs-2022 DataIntegrityProof")]
    WrongSuite,
    #[error("proofValue is missing or not a base58btc multibase Ed25519 signature")]
    BadProofValue,
    #[error("the proof's @context is not a prefix of the document's @context")]
    ContextMismatch,
    #[error("signature does not verify")]
    Signature,
}

fn hash_data(
    document: &Map<String, Value>,
    config: &Map<String, Value>,
) -> Result<Vec<u8>, JcsProofError> {
    let canonical_config =
        canonical_json(&Value::Object(config.clone())).map_err(|_| JcsProofError::NotAnObject)?;
    let canonical_document =
        canonical_json(&Value::Object(document.clone())).map_err(|_| JcsProofError::NotAnObject)?;
    let mut data = Sha256::digest(canonical_config).to_vec();
    data.extend_from_slice(&Sha256::digest(canonical_document));
    Ok(data)
}

/// Sign `document` with the proof options `options` (type, cryptosuite, created,
/// verificationMethod, proofPurpose, and optionally challenge/domain/expires). Returns the
/// document with its `proof`.
pub fn sign(
    document: &Value,
    options: &Map<String, Value>,
    key: &SigningKey,
) -> Result<Value, JcsProofError> {
    let Value::Object(mut unsecured) = document.clone() else {
        return Err(JcsProofError::NotAnObject);
    };
    unsecured.remove("proof");
    let mut config = options.clone();
    config.insert("type".into(), Value::from("DataIntegrityProof"));
    config.insert("cryptosuite".into(), Value::from(SUITE));
    config.remove("proofValue");
    if let Some(context) = unsecured.get("@context") {
        config.insert("@context".into(), context.clone());
    }
    let data = hash_data(&unsecured, &config)?;
    let signature = key.sign(&data);
    config.insert(
        "proofValue".into(),
        Value::from(multibase::encode(
            multibase::Base::Base58Btc,
            signature.to_bytes(),
        )),
    );
    unsecured.insert("proof".into(), Value::Object(config));
    Ok(Value::Object(unsecured))
}

/// The single proof of a secured document, if it is an `eddsa-jcs-2022` one.
pub fn proof_of(document: &Value) -> Option<&Map<String, Value>> {
    let proof = document.get("proof")?.as_object()?;
    (proof.get("cryptosuite")?.as_str()? == SUITE).then_some(proof)
}

/// Verify the `eddsa-jcs-2022` proof of `document` with `key` (the key the proof's
/// verificationMethod resolves to).
pub fn verify(document: &Value, key: &VerifyingKey) -> Result<(), JcsProofError> {
    let Value::Object(secured) = document else {
        return Err(JcsProofError::NotAnObject);
    };
    let proof = secured
        .get("proof")
        .and_then(Value::as_object)
        .ok_or(JcsProofError::MissingProof)?;
    if proof.get("type").and_then(Value::as_str) != Some("DataIntegrityProof")
        || proof.get("cryptosuite").and_then(Value::as_str) != Some(SUITE)
    {
        return Err(JcsProofError::WrongSuite);
    }
    let signature = proof
        .get("proofValue")
        .and_then(Value::as_str)
        .and_then(|value| {
            let (base, bytes) = multibase::decode(value).ok()?;
            (base == multibase::Base::Base58Btc).then_some(bytes)
        })
        .and_then(|bytes| Signature::from_slice(&bytes).ok())
        .ok_or(JcsProofError::BadProofValue)?;
    let mut config = proof.clone();
    config.remove("proofValue");
    let mut unsecured = secured.clone();
    unsecured.remove("proof");
    if let Some(proof_context) = config.get("@context") {
        let prefix = as_list(proof_context);
        let full = unsecured.get("@context").map(as_list).unwrap_or_default();
        if prefix.len() > full.len() || prefix[..] != full[..prefix.len()] {
            return Err(JcsProofError::ContextMismatch);
        }
        unsecured.insert("@context".into(), proof_context.clone());
    }
    let data = hash_data(&unsecured, &config)?;
    key.verify(&data, &signature)
        .map_err(|_| JcsProofError::Signature)
}

fn as_list(context: &Value) -> Vec<Value> {
    match context {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}
