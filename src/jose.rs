//! Compact JWS (RFC 7515) for the exchange: signed tokens, connectors' signed receipts and
//! client assertions, and representatives' detached signatures over agreements.
//!
//! Ed25519 (`EdDSA`, RFC 8037) is verified with `ed25519-dalek`, ES256 with `josekit`.
//! The algorithm comes from the registered key, never from the token alone: a header's
//! `alg` must agree with the key it is checked against.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde_json::{Map, Value};

use crate::trust::did::ed25519_from_jwk;

/// Longest compact JWS accepted (receipts carry a decision token; both are small).
pub const MAX_JWS_BYTES: usize = 64 * 1024;

/// Why a JWS was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JoseError {
    #[error("not a compact JWS: {0}")]
    Malformed(String),
    #[error("algorithm {found:?} does not match the key ({expected})")]
    Algorithm { found: String, expected: String },
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the key is not an Ed25519 or P-256 public JWK")]
    UnsupportedKey,
}

/// A compact JWS taken apart, not yet verified.
#[derive(Debug, Clone)]
pub struct Compact<'a> {
    pub header: Map<String, Value>,
    /// The decoded payload (empty for a detached JWS until one is supplied).
    pub payload: Vec<u8>,
    header_b64: &'a str,
    payload_b64: String,
    signature: Vec<u8>,
}

impl Compact<'_> {
    /// A header member as a string.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }

    /// The payload as a JSON object.
    pub fn payload_json(&self) -> Result<Map<String, Value>, JoseError> {
        match serde_json::from_slice(&self.payload) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(JoseError::Malformed(
                "the payload is not a JSON object".into(),
            )),
        }
    }

    /// Check the signature with a public JWK (Ed25519 or P-256).
    pub fn verify(&self, jwk: &Value) -> Result<(), JoseError> {
        let signing_input = format!("{}.{}", self.header_b64, self.payload_b64);
        let alg = self.header_str("alg").unwrap_or_default();
        if let Some(key) = ed25519_from_jwk(jwk) {
            if alg != "EdDSA" {
                return Err(JoseError::Algorithm {
                    found: alg.to_owned(),
                    expected: "EdDSA".into(),
                });
            }
            return verify_ed25519(&key, signing_input.as_bytes(), &self.signature);
        }
        if jwk.get("kty").and_then(Value::as_str) == Some("EC")
            && jwk.get("crv").and_then(Value::as_str) == Some("P-256")
        {
            if alg != "ES256" {
                return Err(JoseError::Algorithm {
                    found: alg.to_owned(),
                    expected: "ES256".into(),
                });
            }
            let Value::Object(map) = jwk else {
                return Err(JoseError::UnsupportedKey);
            };
            let jwk =
                josekit::jwk::Jwk::from_map(map.clone()).map_err(|_| JoseError::UnsupportedKey)?;
            let verifier = josekit::jws::ES256
                .verifier_from_jwk(&jwk)
                .map_err(|_| JoseError::UnsupportedKey)?;
            return josekit::jws::JwsVerifier::verify(
                &verifier,
                signing_input.as_bytes(),
                &self.signature,
            )
            .map_err(|_| JoseError::BadSignature);
        }
        Err(JoseError::UnsupportedKey)
    }

    /// Check an Ed25519 signature with a known key (this service's own tokens).
    pub fn verify_ed25519(&self, key: &VerifyingKey) -> Result<(), JoseError> {
        if self.header_str("alg") != Some("EdDSA") {
            return Err(JoseError::Algorithm {
                found: self.header_str("alg").unwrap_or_default().to_owned(),
                expected: "EdDSA".into(),
            });
        }
        let signing_input = format!("{}.{}", self.header_b64, self.payload_b64);
        verify_ed25519(key, signing_input.as_bytes(), &self.signature)
    }
}

fn verify_ed25519(key: &VerifyingKey, input: &[u8], signature: &[u8]) -> Result<(), JoseError> {
    let signature = Signature::from_slice(signature).map_err(|_| JoseError::BadSignature)?;
    key.verify_strict(input, &signature)
        .map_err(|_| JoseError::BadSignature)
}

fn decode_part(part: &str, what: &str) -> Result<Vec<u8>, JoseError> {
    B64URL
        .decode(part)
        .map_err(|_| JoseError::Malformed(format!("the {what} is not base64url")))
}

/// Split a compact JWS. With `detached_payload`, the JWS must have an empty payload part
/// (RFC 7515 Appendix F) and is checked over that payload.
pub fn parse<'a>(jws: &'a str, detached_payload: Option<&[u8]>) -> Result<Compact<'a>, JoseError> {
    if jws.len() > MAX_JWS_BYTES {
        return Err(JoseError::Malformed(format!(
            "longer than {MAX_JWS_BYTES} bytes"
        )));
    }
    let mut parts = jws.split('.');
    let (Some(header_b64), Some(payload_part), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JoseError::Malformed(
            "expected three dot-separated parts".into(),
        ));
    };
    let header = match serde_json::from_slice(&decode_part(header_b64, "header")?) {
        Ok(Value::Object(map)) => map,
        _ => {
            return Err(JoseError::Malformed(
                "the header is not a JSON object".into(),
            ));
        }
    };
    if header.contains_key("crit") || header.get("b64") == Some(&Value::Bool(false)) {
        return Err(JoseError::Malformed(
            "critical header parameters (crit, b64) are not supported".into(),
        ));
    }
    let (payload, payload_b64) = match detached_payload {
        Some(detached) => {
            if !payload_part.is_empty() {
                return Err(JoseError::Malformed(
                    "a detached JWS must have an empty payload part (header..signature)".into(),
                ));
            }
            (detached.to_vec(), B64URL.encode(detached))
        }
        None => (
            decode_part(payload_part, "payload")?,
            payload_part.to_owned(),
        ),
    };
    Ok(Compact {
        header,
        payload,
        header_b64,
        payload_b64,
        signature: decode_part(signature_b64, "signature")?,
    })
}

/// Sign `payload` with Ed25519 under `header` (which gets `alg: EdDSA`).
pub fn sign_ed25519(key: &SigningKey, mut header: Map<String, Value>, payload: &[u8]) -> String {
    header.insert("alg".into(), Value::from("EdDSA"));
    let header_b64 = B64URL.encode(Value::Object(header).to_string());
    let payload_b64 = B64URL.encode(payload);
    let signing_input = format!("{header_b64}.{payload_b64}");
    let signature = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", B64URL.encode(signature.to_bytes()))
}

/// A detached JWS (`header..signature`) over `payload`.
pub fn sign_detached_ed25519(
    key: &SigningKey,
    header: Map<String, Value>,
    payload: &[u8],
) -> String {
    let attached = sign_ed25519(key, header, payload);
    let mut parts = attached.split('.');
    let (header, signature) = (parts.next(), parts.nth(1));
    format!(
        "{}..{}",
        header.unwrap_or_default(),
        signature.unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::did::jwk_of;
    use serde_json::json;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn header(kid: &str) -> Map<String, Value> {
        let mut header = Map::new();
        header.insert("kid".into(), Value::from(kid));
        header
    }

    #[test]
    fn attached_round_trip_and_tampering() {
        let jws = sign_ed25519(&key(1), header("k"), br#"{"a":1}"#);
        let jwk = jwk_of(&key(1).verifying_key());
        let parsed = parse(&jws, None).unwrap();
        parsed.verify(&jwk).unwrap();
        assert_eq!(parsed.payload_json().unwrap()["a"], json!(1));
        assert_eq!(
            parsed.verify(&jwk_of(&key(2).verifying_key())),
            Err(JoseError::BadSignature)
        );
        let (head, rest) = jws.split_once('.').unwrap();
        let (_, signature) = rest.split_once('.').unwrap();
        let forged = format!("{head}.{}.{signature}", B64URL.encode(br#"{"a":2}"#));
        assert_eq!(
            parse(&forged, None).unwrap().verify(&jwk),
            Err(JoseError::BadSignature)
        );
    }

    #[test]
    fn detached_signatures_cover_the_given_payload_only() {
        let jws = sign_detached_ed25519(&key(3), header("k"), b"agreement");
        assert!(jws.contains(".."));
        let jwk = jwk_of(&key(3).verifying_key());
        parse(&jws, Some(b"agreement"))
            .unwrap()
            .verify(&jwk)
            .unwrap();
        assert_eq!(
            parse(&jws, Some(b"agreement!")).unwrap().verify(&jwk),
            Err(JoseError::BadSignature)
        );
    }

    #[test]
    fn the_algorithm_must_match_the_key() {
        let jws = sign_ed25519(&key(4), header("k"), b"{}");
        let (_, rest) = jws.split_once('.').unwrap();
        let none_header = B64URL.encode(r#"{"alg":"none","kid":"k"}"#);
        let downgraded = format!("{none_header}.{rest}");
        assert!(matches!(
            parse(&downgraded, None)
                .unwrap()
                .verify(&jwk_of(&key(4).verifying_key())),
            Err(JoseError::Algorithm { .. })
        ));
    }

    #[test]
    fn malformed_input_is_refused_without_panicking() {
        for bad in ["", "a", "a.b", "a.b.c.d", "!!.e30.AA", "e30.e30.!!"] {
            assert!(parse(bad, None).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        /// Any input is refused or parsed, never a panic.
        #[test]
        fn parsing_never_panics(input in "[A-Za-z0-9_.-]{0,200}") {
            let _ = parse(&input, None);
            let _ = parse(&input, Some(b"payload"));
        }

        /// Changing any one character of a signed JWS makes it fail to verify (or parse).
        #[test]
        fn any_change_breaks_the_signature(position in 0usize..200, replacement in "[A-Za-z0-9_-]") {
            let jws = sign_ed25519(&key(7), header("k"), br#"{"receipt":"r","bytes":10}"#);
            let position = position % jws.len();
            let original = &jws[position..=position];
            proptest::prop_assume!(original != "." && original != replacement.as_str());
            let mut changed = jws.clone();
            changed.replace_range(position..=position, &replacement);
            let jwk = jwk_of(&key(7).verifying_key());
            let verified = parse(&changed, None).map(|p| p.verify(&jwk));
            proptest::prop_assert!(!matches!(verified, Ok(Ok(()))), "{changed}");
        }
    }
}
